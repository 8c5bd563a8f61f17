"""The sandbox's services, built once per app and reachable from any view."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis
from flask import current_app

from sandbox.codes import AuthorizationCodes
from sandbox.refresh import RefreshTokens
from sandbox.registry import Registry
from sandbox.settings import Settings
from sandbox.tokens import AccessTokens

if TYPE_CHECKING:
    from sandbox.consent import Consents
    from sandbox.faults import Faults
    from sandbox.metrics import Metrics
    from sandbox.proofs import Proofs
    from sandbox.pushed import PushedRequests
    from sandbox.reports import FlightReports


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
