"""A local stand-in of Altitude Angel's OAuth 2.0 authorization server and flight-reports API."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, request

from altitudeangel_sandbox import assets
from altitudeangel_sandbox.admin import clients as admin_clients
from altitudeangel_sandbox.admin import endpoints as admin_endpoints
from altitudeangel_sandbox.api import mapdata, reports, userinfo
from altitudeangel_sandbox.api.report_store import FlightReports
from altitudeangel_sandbox.api.seed import seed_reports
from altitudeangel_sandbox.errors import register_error_handlers
from altitudeangel_sandbox.faults import Faults, drip_if_noted
from altitudeangel_sandbox.metrics import Metrics
from altitudeangel_sandbox.oauth import authorize, end_session, login, metadata, par, token
from altitudeangel_sandbox.oauth.access_tokens import AccessTokens
from altitudeangel_sandbox.oauth.assertions import PrivateKeyJWT
from altitudeangel_sandbox.oauth.backchannel import BackChannelLogout
from altitudeangel_sandbox.oauth.clients import PRIVATE_KEY_JWT, ClientDefaults
from altitudeangel_sandbox.oauth.codes import AuthorizationCodes
from altitudeangel_sandbox.oauth.consent import Consents
from altitudeangel_sandbox.oauth.dpop.policy import Proofs, nonce_giver
from altitudeangel_sandbox.oauth.id_tokens import IdTokens
from altitudeangel_sandbox.oauth.par_store import PushedRequests
from altitudeangel_sandbox.oauth.refresh_tokens import RefreshTokens
from altitudeangel_sandbox.oauth.registry import Registry
from altitudeangel_sandbox.oauth.server import SandboxAuthorizationServer, init_authorization_server
from altitudeangel_sandbox.oauth.sessions import BrowserSessions
from altitudeangel_sandbox.oauth.signing import load_signing_key
from altitudeangel_sandbox.settings import Settings, load_settings
from altitudeangel_sandbox.state import SandboxState, current_sandbox
from altitudeangel_sandbox.store import connect

__all__ = ["SandboxState", "create_app", "current_sandbox"]

API_BLUEPRINTS = {"flights", "mapdata", "userinfo"}


def client_defaults(settings: Settings) -> ClientDefaults:
    """Return what this mode and the settings give every registered client."""
    return ClientDefaults(
        settings.extra_redirect_uris,
        settings.extra_post_logout_redirect_uris,
        settings.extra_backchannel_logout_uris,
        settings.secret_methods,
        assertions=not settings.documented_only,
        openid=settings.openid,
    )


def build_state(settings: Settings) -> SandboxState:
    """Connect to Redis and build the one owner of each piece of state."""
    db = connect(settings.redis_url)
    family_ttl = max(settings.access_token_ttl, settings.refresh_token_ttl)
    registry = Registry.load(settings.registry_path, client_defaults(settings), db)
    flight_reports = FlightReports(db)
    seed_reports(db, flight_reports, set(registry.users))
    signing_key = load_signing_key(db)
    id_tokens = IdTokens(settings, signing_key)
    metrics = Metrics()
    return SandboxState(
        settings=settings,
        db=db,
        registry=registry,
        codes=AuthorizationCodes(db, settings.code_ttl),
        refresh_tokens=RefreshTokens(db, settings.refresh_token_ttl, family_ttl),
        access_tokens=AccessTokens(db, settings, signing_key),
        id_tokens=id_tokens,
        sessions=BrowserSessions(db, family_ttl),
        backchannel=BackChannelLogout(registry, id_tokens, metrics),
        consents=Consents(db),
        pushed=PushedRequests(db, settings.par_ttl),
        proofs=Proofs(db, settings),
        reports=flight_reports,
        faults=Faults(db, settings.faults),
        metrics=metrics,
        server=SandboxAuthorizationServer(),
    )


def configure(app: Flask, settings: Settings, config: Mapping[str, Any]) -> None:
    """Set Flask's own configuration: the session cookie, CSRF and body limits."""
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # The client app shares the host 127.0.0.1 and cookies ignore ports: use our own name.
        SESSION_COOKIE_NAME="aa_sandbox_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=64 * 1024,
        WTF_CSRF_TIME_LIMIT=3600,
    )
    app.config.update({k: v for k, v in config.items() if not k.startswith("SANDBOX_")})


def register_authorization_server(app: Flask, state: SandboxState) -> None:
    """Bind the authorization server with its grants, endpoints and client authentication."""
    server = init_authorization_server(app, state)
    server.register_endpoint(end_session.SandboxEndSession)
    server.register_client_auth_method(PRIVATE_KEY_JWT, PrivateKeyJWT())
    server.register_hook("before_get_authorization_grant", par.use_pushed_parameters)


def register_blueprints(app: Flask, state: SandboxState) -> None:
    """Mount every endpoint this mode offers at this mode's paths."""
    settings = state.settings
    app.register_blueprint(authorize.create_blueprint(settings.paths))
    app.register_blueprint(token.create_blueprint(settings))
    app.register_blueprint(userinfo.create_blueprint(settings))
    app.register_blueprint(reports.create_blueprint(settings))
    app.register_blueprint(state.metrics.blueprint())
    for module in (login, mapdata, admin_endpoints, admin_clients, assets):
        app.register_blueprint(module.bp)
    # Discovery, logout and pushed requests are not in the platform's public documents.
    if not settings.documented_only:
        app.register_blueprint(end_session.create_blueprint(settings.paths))
        app.register_blueprint(par.create_blueprint(settings.paths))
        app.register_blueprint(metadata.bp)


def count_api_requests(response: Response) -> Response:
    """Count each resource API request by URL rule and status."""
    if request.blueprint in API_BLUEPRINTS and request.url_rule is not None:
        counter = current_sandbox().metrics.api_requests
        counter.labels(request.url_rule.rule, str(response.status_code)).inc()
    return response


def register_hooks(app: Flask, state: SandboxState) -> None:
    """Count API requests, drip a noted fault's body, and hand out DPoP nonces."""
    app.after_request(count_api_requests)
    app.after_request(drip_if_noted)
    app.after_request(nonce_giver(state.proofs))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the sandbox: settings from the environment, overridden by ``config``."""
    config = dict(config or {})
    settings = load_settings({**os.environ, **config})
    app = Flask(__name__, static_url_path="/sandbox/static")
    configure(app, settings, config)
    state = build_state(settings)
    state.init_app(app)
    register_authorization_server(app, state)
    register_blueprints(app, state)
    register_error_handlers(app)
    register_hooks(app, state)
    return app
