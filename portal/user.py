"""The signed-in user: their login id, and calls made on their behalf with a fresh token."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import session

from portal.api import InvalidToken
from portal.oauth import AuthServerError
from portal.refresh import SignInRequired
from portal.services import services

T = TypeVar("T")
log = logging.getLogger(__name__)


def signed_in() -> bool:
    return "login_id" in session


def user_call(call: Callable[[str], T]) -> T:
    """Call an API with the user's token: refreshed before expiry, and once more after a 401."""
    login_id = session.get("login_id")
    if not login_id:
        raise SignInRequired()
    refresher = services().refresher
    token = refresher.current(login_id)
    try:
        return call(token.access_token)
    except InvalidToken:
        token = refresher.refresh(login_id, token, reason="rejected")
    try:
        return call(token.access_token)
    except InvalidToken:
        services().tokens.clear(login_id)
        raise SignInRequired() from None


def client_call(call: Callable[[str], T]) -> T:
    """Call an API with the shared client-credentials token, fetching another after a 401."""
    source = services().client_token
    token = source.get()
    try:
        return call(token)
    except InvalidToken:
        source.discard(token)
    return call(source.get())


def sign_out_locally(revoke: bool) -> None:
    """Forget the login here (tokens and session), revoking its grant first when asked."""
    svc = services()
    login_id = session.get("login_id")
    if login_id:
        token = svc.tokens.get(login_id) if revoke else None
        if token is not None and token.refresh_token:
            try:
                svc.oauth.revoke(token.refresh_token)
            except AuthServerError as error:
                # Local sign-out must not depend on the authorization server being up.
                log.warning("event=revocation_failed reason=%s", type(error).__name__)
        svc.tokens.clear(login_id)
    session.clear()
