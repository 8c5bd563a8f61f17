"""The client web app's composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import click
from flask import Flask

from flask_altitudeangel import ConfigError, connect_redis
from portal import account, csrf_token, errors, flights, health, hooks, templating, trace
from portal.application import PortalFlask
from portal.extensions import aa, csrf, platform, readiness
from portal.logs import configure_logging
from portal.platform import FlightIdConverter
from portal.rate_limits import SignInRateLimit
from portal.security import ProxyFixFromProxies
from portal.sessions import RedisSessions
from portal.settings import Settings, SettingsError, load_settings

SESSION_COOKIE = "portal_session"


def create_app(test_config: Mapping[str, str] | None = None) -> Flask:
    """Build the app from the environment, with ``test_config`` overriding it."""
    settings = load_settings({**os.environ, **(test_config or {})})
    app = PortalFlask(__name__, template_folder="templates", static_folder="static")
    app.config.update(flask_config(settings))
    configure_logging()
    register_extensions(app, settings)
    register_blueprints(app)
    errors.register_error_handlers(app)
    hooks.register_request_hooks(app)
    register_commands(app)
    if settings.trust_proxy:
        proxies, allowed = settings.trust_proxy, settings.forwarded_allow_ips
        app.wsgi_app = ProxyFixFromProxies(app.wsgi_app, proxies, allowed)  # type: ignore[method-assign]
    return app


def flask_config(settings: Settings) -> dict[str, Any]:
    secure = settings.session_cookie_secure
    return {
        **settings.extension,
        "SECRET_KEY": settings.secret_key,
        "SESSION_COOKIE_NAME": ("__Host-" if secure else "") + SESSION_COOKIE,
        "SESSION_COOKIE_SECURE": secure,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PATH": "/",
        "SESSION_COOKIE_DOMAIN": None,
        "SESSION_REFRESH_EACH_REQUEST": False,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session that holds it
        "WTF_CSRF_CHECK_DEFAULT": False,  # checked by portal.hooks, for the methods it guards
        "PORTAL_SETTINGS": settings,
    }


def limiter_storage_uri(redis_url: str) -> str:
    """Name the app's Redis the way the limits library does: a cluster by its URL; one node or
    a Sentinel-run primary through the app's own client (see ``limiter_storage_options``)."""
    for ours in ("redis+cluster://", "rediss+cluster://"):
        if redis_url.startswith(ours):
            return "redis+cluster://" + redis_url[len(ours) :]
    return "redis://"


def limiter_storage_options(settings: Settings, redis: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"key_prefix": "portal:ratelimit"}
    if limiter_storage_uri(settings.redis_url) == "redis://":
        # The same connections as the sessions and tokens, to whichever primary is current.
        options["connection_pool"] = redis.connection_pool
        return options
    options["socket_timeout"] = settings.redis_timeout
    options["socket_connect_timeout"] = settings.redis_timeout
    if settings.redis_url.startswith("rediss+cluster://"):
        options["ssl"] = True
    return options


def register_extensions(app: Flask, settings: Settings) -> None:
    try:
        redis = connect_redis(settings.redis_url, settings.redis_timeout)
    except ValueError as error:
        raise SettingsError(f"REDIS_URL is not a Redis URL the app can use: {error}") from None
    readiness.init_app(app, redis)
    app.session_interface = RedisSessions(app, redis, key_prefix="portal:session:")
    csrf.init_app(app)
    csrf_token.init_app(app)  # the token Flask-WTF makes, made for less
    try:
        aa.init_app(app, redis=redis)  # checks the AA_* settings, every one
    except ConfigError as error:
        raise SettingsError(str(error)) from None
    with app.app_context():
        config = aa.config  # the one the extension read: this app reads no AA_* key itself
    app.permanent_session_lifetime = timedelta(seconds=config.session_idle_timeout)
    platform.init_app(app, redis)
    limit_sign_ins(app, settings, redis)
    trace.recorder.init_app(app, redis, settings, config)


def limit_sign_ins(app: Flask, settings: Settings, redis: Any) -> None:
    """Rate-limit starting and finishing a sign-in per client address: each writes to Redis."""
    SignInRateLimit(
        limiter_storage_uri(settings.redis_url),
        limiter_storage_options(settings, redis),
        settings.login_rate_limit,
    ).init_app(app)


def register_blueprints(app: Flask) -> None:
    app.url_map.converters["flight_id"] = FlightIdConverter
    for blueprint in (account.bp, flights.bp, trace.bp, health.bp):
        app.register_blueprint(blueprint)
    templating.init_app(app)


def register_commands(app: Flask) -> None:
    @app.cli.command("sweep-logins")
    def sweep_logins() -> None:
        """Revoke the grants of logins idle past their limit, and delete their tokens."""
        swept = aa.sweep_idle_logins()
        click.echo(f"swept {swept} idle login{'s' if swept != 1 else ''}")
