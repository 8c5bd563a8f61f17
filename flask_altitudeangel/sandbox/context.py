"""The sandbox's services, built once per app and reachable from any view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from flask import current_app

from flask_altitudeangel.sandbox.codes import AuthorizationCodes
from flask_altitudeangel.sandbox.refresh import RefreshTokens
from flask_altitudeangel.sandbox.registry import Registry
from flask_altitudeangel.sandbox.settings import Settings
from flask_altitudeangel.sandbox.tokens import AccessTokens

if TYPE_CHECKING:
    from flask_altitudeangel.sandbox.consent import Consents
    from flask_altitudeangel.sandbox.faults import Faults
    from flask_altitudeangel.sandbox.metrics import Metrics
    from flask_altitudeangel.sandbox.proofs import Proofs
    from flask_altitudeangel.sandbox.pushed import PushedRequests
    from flask_altitudeangel.sandbox.reports import FlightReports


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
