"""The portal against the sandbox's aa-public mode: only what the real platform documents.

Configured as docs/deploy.md tells a user to configure the app for the real platform; the
reports come from the map data and from what was filed through the app.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_altitudeangel.records import peek_claims
from tests import peek
from tests.oauth_driver import csrf_token
from tests.portal.conftest import REDIRECT_URI, app_environment, portal_for, sign_in_with
from tests.services import RedisServer, ServiceProcess, sandbox_process

READING = "52.0,0.0,51.0,-2.0"  # north,east,south,west: around alice's seeded reports
NEW_REPORT = {
    "name": "Kennet mouth survey",
    "flight_type": "rec",
    "timezone": "Europe/London",
    "start": "2031-06-01T09:00",
    "end": "2031-06-01T10:30",
    "lat": "51.4570",
    "lng": "-0.9580",
    "radius_meters": "250",
    "description": "",
}


@pytest.fixture(scope="module")
def public_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    service = sandbox_process(redis_server.url, SANDBOX_MODE="aa-public").start()
    yield service
    service.stop()


def platform_app(redis: RedisServer, sandbox: ServiceProcess, **extra: str) -> Flask:
    """The app set up as docs/deploy.md says for the real platform."""
    env = app_environment(redis, sandbox, AA_REQUIRE_ISS="0", **extra)
    del env["AA_PAR"]  # the suite-wide "0" goes: deploy.md sets none of DPoP, PAR, client auth
    return portal_for(env)


def test_the_configuration_is_the_platforms_documented_one(
    redis_server: RedisServer, public_sandbox: ServiceProcess
) -> None:
    app = platform_app(redis_server, public_sandbox)
    config = peek.config(app)
    assert config.metadata == {}  # none published: the documented paths
    assert config.authorize_url == public_sandbox.url + "/oauth/v2/authorize"
    assert config.end_session_url == "" and config.revoke_url == ""


def test_sign_out_revokes_nothing_the_platform_does_not_offer_and_calls_it_no_failure(
    redis_server: RedisServer, public_sandbox: ServiceProcess, caplog: pytest.LogCaptureFixture
) -> None:
    client = platform_app(redis_server, public_sandbox).test_client()
    assert sign_in_with(client).status_code == 303
    page = client.get("/flight-reports").text
    with caplog.at_level(logging.DEBUG, logger="flask_altitudeangel"):
        assert client.post("/logout", data={"csrf_token": csrf_token(page)}).status_code == 303
    events = [record.getMessage() for record in caplog.records]
    assert "event=revocation_skipped reason=not_offered" in events
    assert not [event for event in events if "revocation_failed" in event]
    assert peek.login_id(client) is None


def test_tokens_are_bearer_nothing_is_pushed_and_the_secret_goes_in_the_form(
    redis_server: RedisServer, public_sandbox: ServiceProcess
) -> None:
    app = platform_app(redis_server, public_sandbox)
    config = peek.config(app)
    assert not config.dpop and config.par_url == ""
    assert config.client_auth == "client_secret_post"
    client = app.test_client()
    location = client.get("/login").headers["Location"]
    assert location.startswith(public_sandbox.url + "/oauth/v2/authorize?")
    query = parse_qs(urlsplit(location).query)
    assert "request_uri" not in query
    assert query["redirect_uri"] == [REDIRECT_URI] and query["code_challenge_method"] == ["S256"]
    assert {"response_type", "client_id", "scope", "state", "code_challenge"} < set(query)

    # The sandbox takes the secret from the form body only, as the platform documents.
    assert sign_in_with(client).status_code == 303
    token = peek.stored_token(client)
    assert token is not None and token.token_type == "Bearer" and token.dpop_jwk is None
    assert "cnf" not in (peek_claims(token.access_token) or {})
    # A token sent as DPoP would be refused here: the platform offers no DPoP.
    assert client.get("/profile").status_code == 200
    steps = app.extensions["portal_trace"].steps(peek.login_id(client))
    token_request = dict(next(s for s in steps if s.title == "Token request").details)
    assert token_request["client authentication"].startswith("client_secret_post")
    assert "client assertion header" not in token_request
    assert [s.title for s in steps if any("DPoP" in name for name, _ in s.details)] == []


def test_reports_come_from_the_map_and_from_what_was_filed_here(
    redis_server: RedisServer, public_sandbox: ServiceProcess
) -> None:
    client = platform_app(redis_server, public_sandbox, REPORTS_AREA=READING).test_client()
    assert sign_in_with(client).status_code == 303

    listing = client.get("/flight-reports")
    assert listing.status_code == 200, listing.text[:500]
    assert "offers apps no list of your reports" in listing.text
    assert "Thames at Reading bank survey" in listing.text  # a current report on the map
    assert "Edinburgh Old Town chimney check" not in listing.text  # outside the area watched

    opened = client.get(first_report_link(listing.text, "Thames at Reading bank survey"))
    assert opened.status_code == 200
    assert "what its map data says of it" in opened.text
    assert "estimated from the map" in opened.text
    assert re.search(r"AA-FR-\d+", opened.text)  # the reference, read from the display text

    form = client.get("/flight-reports/new").text
    filed = client.post("/flight-reports/new", data={**NEW_REPORT, "csrf_token": csrf_token(form)})
    assert filed.status_code == 303, filed.text[:500]
    shown = client.get(filed.headers["Location"])
    assert shown.status_code == 200 and "Kennet mouth survey" in shown.text
    assert "filed through this app" in shown.text

    completed = client.post(
        filed.headers["Location"] + "/complete", data={"csrf_token": csrf_token(shown.text)}
    )
    assert completed.status_code == 303
    after = client.get(filed.headers["Location"]).text
    assert "completed" in after and "Complete this report" not in after
    assert client.get("/profile").status_code == 200


def test_what_was_filed_here_is_remembered_per_user_across_logins(
    redis_server: RedisServer, public_sandbox: ServiceProcess
) -> None:
    app = platform_app(redis_server, public_sandbox)  # no area watched: only filed reports
    first = app.test_client()
    assert sign_in_with(first, "bob").status_code == 303
    form = first.get("/flight-reports/new").text
    filed = first.post(
        "/flight-reports/new",
        data={**NEW_REPORT, "name": "Remembered flight of Bob", "csrf_token": csrf_token(form)},
    )
    assert filed.status_code == 303

    later = app.test_client()  # another browser, another login, the same Altitude Angel user
    assert sign_in_with(later, "bob").status_code == 303
    listing = later.get("/flight-reports").text
    assert "Remembered flight of Bob" in listing
    assert "set <code>REPORTS_AREA</code>" in listing


def test_nothing_on_the_normal_path_is_an_error_page(
    redis_server: RedisServer, public_sandbox: ServiceProcess
) -> None:
    client: FlaskClient = platform_app(redis_server, public_sandbox).test_client()
    assert sign_in_with(client, "alice").status_code == 303
    for path in ("/", "/flight-reports", "/flight-reports/new", "/profile", "/session", "/flow"):
        assert client.get(path).status_code == 200, path


def first_report_link(page: str, name: str) -> str:
    """Return the link of the row naming ``name``."""
    for row in page.split("<tr>"):
        if name in row:
            return re.findall(r'href="(/flight-reports/[^"]+)"', row)[0]
    raise AssertionError(f"{name!r} is not listed")
