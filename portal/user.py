"""The signed-in user: their login id, and calls made on their behalf with a fresh token."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from flask import session

from portal.api import InvalidToken
from portal.oauth import AuthServerError
from portal.refresh import SignInRequired
from portal.services import services

T = TypeVar("T")
P = ParamSpec("P")
log = logging.getLogger(__name__)


def signed_in() -> bool:
    return "login_id" in session


def login_required(view: Callable[P, T]) -> Callable[P, T]:
    """Ask for a sign-in before the view runs, so an anonymous visit writes nothing."""

    @functools.wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        if not signed_in():
            raise SignInRequired()
        return view(*args, **kwargs)

    return guarded


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
        # A fresh token refused too: the grant is no good to this app any more.
        end_login(login_id, wait=False)
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


def end_login(login_id: str, wait: bool) -> None:
    """Revoke the login's grant and delete its tokens.

    Only an explicit sign-out waits for the revocation (and briefly): every other end of a
    login revokes in the background, so a slow authorization server never holds a user up.
    """
    svc = services()
    token = svc.tokens.get(login_id)
    svc.tokens.clear(login_id)
    if token is None or not token.refresh_token:
        return
    if not wait:
        svc.oauth.revoke_in_background(token.refresh_token)
        return
    try:
        svc.oauth.revoke(token.refresh_token)
    except AuthServerError as error:
        # Local sign-out must not depend on the authorization server being up.
        log.warning("event=revocation_failed reason=%s", type(error).__name__)


def sign_out_locally(wait: bool = False) -> None:
    """Forget the login here (tokens and session) and revoke its grant."""
    login_id = session.get("login_id")
    if login_id:
        end_login(login_id, wait)
    if session:
        session.clear()
