"""The one object a sandbox app holds: its settings, Redis and the owner of each piece of state.

The app factory builds it once and keeps it in ``app.extensions``; code that runs in a request
reaches it with ``current_sandbox()``, once, and hands its helpers what they need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    import redis

    from altitudeangel_sandbox.api.report_store import FlightReports
    from altitudeangel_sandbox.faults import Faults
    from altitudeangel_sandbox.metrics import Metrics
    from altitudeangel_sandbox.oauth.access_tokens import AccessTokens
    from altitudeangel_sandbox.oauth.backchannel import BackChannelLogout
    from altitudeangel_sandbox.oauth.codes import AuthorizationCodes
    from altitudeangel_sandbox.oauth.consent import Consents
    from altitudeangel_sandbox.oauth.dpop.policy import Proofs
    from altitudeangel_sandbox.oauth.id_tokens import IdTokens
    from altitudeangel_sandbox.oauth.par_store import PushedRequests
    from altitudeangel_sandbox.oauth.refresh_tokens import RefreshTokens
    from altitudeangel_sandbox.oauth.registry import Registry
    from altitudeangel_sandbox.oauth.server import SandboxAuthorizationServer
    from altitudeangel_sandbox.oauth.sessions import BrowserSessions
    from altitudeangel_sandbox.settings import Settings

EXTENSION = "altitudeangel_sandbox"


@dataclass(frozen=True)
class SandboxState:
    """Everything one sandbox app's requests need, built once by ``create_app``."""

    settings: Settings
    db: redis.Redis
    registry: Registry
    codes: AuthorizationCodes
    refresh_tokens: RefreshTokens
    access_tokens: AccessTokens
    id_tokens: IdTokens
    sessions: BrowserSessions
    backchannel: BackChannelLogout
    consents: Consents
    pushed: PushedRequests
    proofs: Proofs
    reports: FlightReports
    faults: Faults
    metrics: Metrics
    server: SandboxAuthorizationServer

    def init_app(self, app: Flask) -> None:
        """Hold this state on ``app``, where ``current_sandbox()`` finds it."""
        app.extensions[EXTENSION] = self


def current_sandbox() -> SandboxState:
    """Return the state of the sandbox app handling the current request."""
    found: SandboxState = current_app.extensions[EXTENSION]
    return found
