"""The sandbox's services, built once per app and reachable from any view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from flask import current_app

from altitudeangel_sandbox.oauth.access_tokens import AccessTokens
from altitudeangel_sandbox.oauth.codes import AuthorizationCodes
from altitudeangel_sandbox.oauth.refresh_tokens import RefreshTokens
from altitudeangel_sandbox.oauth.registry import Registry
from altitudeangel_sandbox.settings import Settings

if TYPE_CHECKING:
    from altitudeangel_sandbox.api.report_store import FlightReports
    from altitudeangel_sandbox.faults import Faults
    from altitudeangel_sandbox.metrics import Metrics
    from altitudeangel_sandbox.oauth.consent import Consents
    from altitudeangel_sandbox.oauth.dpop.policy import Proofs
    from altitudeangel_sandbox.oauth.par_store import PushedRequests


@dataclass
class Services:
    """Everything the views need: settings, Redis and the one owner of each piece of state."""

    settings: Settings
    db: redis.Redis
    registry: Registry
    codes: AuthorizationCodes
    refresh_tokens: RefreshTokens
    access_tokens: AccessTokens
    consents: Consents
    pushed: PushedRequests
    proofs: Proofs
    reports: FlightReports
    faults: Faults
    metrics: Metrics


def services() -> Services:
    """Return the current app's services."""
    found: Services = current_app.extensions["sandbox"]
    return found
