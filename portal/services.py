"""The app's long-lived collaborators, built once per app and found through ``services()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app

from portal import flow_steps
from portal.api import PlatformApi
from portal.client_token import ClientTokenSource
from portal.crypto import Cipher
from portal.oauth import OAuthClient
from portal.pending import PendingSignIns
from portal.refresh import Refresher
from portal.settings import Settings
from portal.tokens import TokenStore
from portal.trace import FlowTrace, note_api_call


@dataclass(frozen=True)
class Services:
    settings: Settings
    redis: Any
    cipher: Cipher
    oauth: OAuthClient
    pending: PendingSignIns
    api: PlatformApi
    tokens: TokenStore
    refresher: Refresher
    client_token: ClientTokenSource
    trace: FlowTrace


def build_services(settings: Settings, redis: Any) -> Services:
    """Wire the token store, the refresher and the HTTP clients for one app."""
    cipher = Cipher(settings.token_encryption_keys, settings.secret_key)
    oauth = OAuthClient(settings)
    # The lock outlives a token request that answers within the timeouts; the holder extends
    # it while a slower answer still trickles in (refresh.keep_alive).
    lock_ttl = settings.http_connect_timeout + settings.http_read_timeout + 2
    tokens = TokenStore(redis, cipher, ttl=settings.session_absolute_timeout, lock_ttl=lock_ttl)
    trace = FlowTrace(redis, cipher, settings.session_absolute_timeout, settings.flow_trace)
    return Services(
        settings=settings,
        redis=redis,
        cipher=cipher,
        oauth=oauth,
        pending=PendingSignIns(redis, cipher, "portal_signin_", settings.session_cookie_secure),
        api=PlatformApi(settings, on_call=note_api_call if trace.enabled else None),
        tokens=tokens,
        refresher=Refresher(
            tokens,
            oauth,
            settings.refresh_margin,
            settings.refresh_wait,
            on_event=flow_steps.refreshed if trace.enabled else None,
        ),
        client_token=ClientTokenSource(redis, cipher, oauth, lock_ttl, settings.refresh_wait),
        trace=trace,
    )


def services() -> Services:
    """Return the current app's services."""
    return current_app.extensions["portal"]
