"""Prometheus counters of the sandbox, in a registry of its own, and the /metrics view."""

from __future__ import annotations

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest


class Metrics:
    """The counters; one instance per app, so test apps never share a registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.token_requests = Counter(
            "sandbox_token_requests",
            "Token endpoint requests by grant type and outcome (success or the OAuth error).",
            ["grant_type", "outcome"],
            registry=self.registry,
        )
        self.api_requests = Counter(
            "sandbox_api_requests",
            "Resource API requests by URL rule and HTTP status.",
            ["route", "status"],
            registry=self.registry,
        )
        self.revocations = Counter(
            "sandbox_revocations",
            "Revocation requests by outcome: the kind of token revoked, unknown, or the error.",
            ["outcome"],
            registry=self.registry,
        )
        self.end_session_requests = Counter(
            "sandbox_end_session_requests",
            "End-session requests by outcome: confirm, signed_out, stayed, not_signed_in, "
            "invalid_request.",
            ["outcome"],
            registry=self.registry,
        )
        self.pushed_requests = Counter(
            "sandbox_pushed_authorization_requests",
            "Pushed authorization requests by outcome: success or the OAuth error.",
            ["outcome"],
            registry=self.registry,
        )

        self.backchannel_logouts = Counter(
            "sandbox_backchannel_logouts",
            "Logout tokens sent to clients' back-channel logout URIs, by outcome: delivered, "
            "failed.",
            ["outcome"],
            registry=self.registry,
        )

    def blueprint(self) -> Blueprint:
        """Return the /metrics view of these counters, in the Prometheus text format."""
        bp = Blueprint("metrics", __name__)
        registry = self.registry

        @bp.get("/metrics")
        def metrics() -> Response:
            return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

        return bp
