"""The authorization server's refusals at sign-in, each shown for what it is (and logged)."""

from __future__ import annotations

import html
import logging
import re
from urllib.parse import urlencode

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests import peek
from tests.portal.conftest import SignIn, app_environment, portal_for, token_requests
from tests.portal.test_callback import authorize_params
from tests.services import RedisServer, ServiceProcess


def test_declined_consent_gets_a_friendly_escaped_page(
    client: FlaskClient, sign_in: SignIn
) -> None:
    state = authorize_params(client)["state"]
    query = urlencode(
        {
            "error": "access_denied",
            "error_description": "<script>alert(1)</script>",
            "state": state,
            "iss": peek.config(client.application).issuer,
        }
    )
    response = client.get("/callback?" + query)
    assert response.status_code == 403
    assert b"You declined" in response.data
    assert b"<script>" not in response.data
    assert b'href="/login?next=' in response.data
    assert "Location" not in response.headers


def test_declining_at_the_sandbox_ends_on_the_declined_page(
    client: FlaskClient, sign_in: SignIn
) -> None:
    response = sign_in(client, "bob", query={"scope": "talk_tower"}, decision="deny")
    assert response.status_code == 403
    assert b"You declined" in response.data


def test_an_undeclared_scope_ends_on_a_friendly_invalid_scope_page(
    client: FlaskClient, sign_in: SignIn, sandbox: ServiceProcess
) -> None:
    before = token_requests(sandbox, "authorization_code")
    response = sign_in(client, query={"scope": "query_userinfo manage_users"})
    assert response.status_code == 400
    assert b"Permission not available" in response.data
    assert token_requests(sandbox, "authorization_code") == before


def refusal_on_the_page(response: TestResponse) -> dict[str, str]:
    """Return the terms and details of the page's account of the server's refusal."""
    section = response.get_data(as_text=True).partition('id="server-refusal"')[2]
    pairs = re.findall(r"<dt>([^<]+)</dt><dd>(?:<code>)?([^<]*)", section)
    return {term: html.unescape(detail) for term, detail in pairs}


def test_a_pushed_request_the_server_refuses_is_shown_for_what_it_is(
    redis_server: RedisServer, sandbox: ServiceProcess, caplog: pytest.LogCaptureFixture
) -> None:
    unregistered = "http://localhost:5999/callback"
    env = app_environment(redis_server, sandbox, AA_PAR="auto", AA_REDIRECT_URI=unregistered)
    client = portal_for(env).test_client()
    with caplog.at_level(logging.INFO, logger="flask_altitudeangel"):
        response = client.get("/login")

    assert response.status_code == 400
    assert "Sign-in expired" not in response.get_data(as_text=True)
    shown = refusal_on_the_page(response)
    assert shown["Error"] == "invalid_request"
    assert "redirect_uri is missing or not registered" in shown["Description"]
    assert "AA_REDIRECT_URI" in shown["What to check"]
    warning = next(r for r in caplog.records if "sign_in_refused" in r.getMessage())
    assert warning.levelno == logging.WARNING
    assert "error=invalid_request" in warning.getMessage()
    assert "not registered" in warning.getMessage()


def test_an_error_at_the_callback_is_shown_with_its_description(
    client: FlaskClient, sandbox: ServiceProcess, caplog: pytest.LogCaptureFixture
) -> None:
    state = authorize_params(client)["state"]
    refusal = {
        "state": state,
        "iss": sandbox.url,
        "error": "unauthorized_client",
        "error_description": "The redirect_uri is not registered for this application.",
    }
    with caplog.at_level(logging.INFO, logger="flask_altitudeangel"):
        response = client.get("/callback", query_string=refusal)

    assert response.status_code == 400
    shown = refusal_on_the_page(response)
    assert shown["Error"] == "unauthorized_client"
    assert shown["Description"] == refusal["error_description"]
    assert "redirect URI" in shown["What to check"]
    warning = next(r for r in caplog.records if "sign_in_refused" in r.getMessage())
    assert warning.levelno == logging.WARNING
    assert state not in caplog.text


def test_a_malformed_error_description_is_not_shown(
    client: FlaskClient, sandbox: ServiceProcess
) -> None:
    state = authorize_params(client)["state"]
    described = {"error": "invalid_request", "error_description": 'say "<b>hi"'}
    refusal = {"state": state, "iss": sandbox.url, **described}
    shown = refusal_on_the_page(client.get("/callback", query_string=refusal))
    assert shown["Error"] == "invalid_request" and "Description" not in shown
