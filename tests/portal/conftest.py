"""The client web app under test: in-process for inspection, against real Redis and sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from tests.oauth_driver import SandboxUser
from tests.services import (
    METRICS_TOKEN,
    RedisServer,
    ServiceProcess,
    clear_faults,
    inject_fault,
    metric_sum,
)

DEMO_SECRET = "demo+portal/secret=&%?#2026"
# Registered for demo-portal in the sandbox's default registry. Nothing listens there: the
# driver stops at the redirect and hands the callback URL to the in-process app.
REDIRECT_URI = "http://localhost:5000/callback"
USERS = {"alice": "wonderland", "bob": "builder"}


def app_environment(redis: RedisServer, sandbox: ServiceProcess, **extra: str) -> dict[str, str]:
    return {
        "AA_AUTH_URL": sandbox.url,
        "AA_CLIENT_ID": "demo-portal",
        "AA_CLIENT_SECRET": DEMO_SECRET,
        "AA_REDIRECT_URI": REDIRECT_URI,
        "AA_REQUIRE_ISS": "1",
        "REDIS_URL": redis.url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        # Every test signs in from 127.0.0.1 against one Redis: the per-address limit on
        # sign-ins has tests of its own (test_rate_limit.py) and is lifted for the rest.
        "LOGIN_RATE_LIMIT": "100000 per minute",
        "FLOW_TRACE": "1",
        "METRICS_TOKEN": METRICS_TOKEN,
        # These tests read and forge the authorization request's parameters, which a pushed
        # request (RFC 9126) keeps out of the URL; test_sender_constrained.py covers that path.
        "AA_PAR": "0",
        **extra,
    }


def portal_for(env: dict[str, str]) -> Flask:
    """Return the portal built from ``env``, in Flask's testing mode."""
    app = create_app(env)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def portal_app(redis_server: RedisServer, sandbox: ServiceProcess) -> Flask:
    return portal_for(app_environment(redis_server, sandbox))


@pytest.fixture
def client(portal_app: Flask) -> FlaskClient:
    return portal_app.test_client()


SignIn = Callable[..., Any]


def sign_in_with(
    client: FlaskClient,
    username: str = "alice",
    *,
    query: dict[str, Any] | None = None,
    decision: str = "allow",
    redirect_uri: str = REDIRECT_URI,
) -> Any:
    """Sign in through the sandbox's pages; return the app's answer to the callback."""
    started = client.get("/login", query_string=query or {})
    assert started.status_code == 302, started.data[:300]
    person = SandboxUser(username, USERS[username])
    callback = person.authorize(started.headers["Location"], redirect_uri, decision)
    parts = urlsplit(callback)
    return client.get(f"{parts.path}?{parts.query}")


@pytest.fixture
def sign_in() -> SignIn:
    return sign_in_with


def sandbox_counter(sandbox: ServiceProcess, name: str, **labels: str) -> float:
    """Read one counter of the sandbox's /metrics, summed over the samples matching ``labels``."""
    return metric_sum(sandbox, name, **labels)


def token_requests(sandbox: ServiceProcess, grant_type: str) -> float:
    return sandbox_counter(sandbox, "sandbox_token_requests_total", grant_type=grant_type)


@pytest.fixture
def faults(sandbox: ServiceProcess) -> Iterator[Callable[..., None]]:
    """Queue faults at the session's sandbox; they are cleared after the test."""
    yield lambda *args, **kwargs: inject_fault(sandbox, *args, **kwargs)
    clear_faults(sandbox)
