"""The same flow against a standard OAuth 2.0 server: other paths, opaque tokens, no `iss`.

Only the environment changes; the sandbox's generic mode, with opaque tokens, plays that server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from app import create_app
from tests.oauth_driver import csrf_token
from tests.portal.conftest import SignIn, app_environment, sandbox_counter
from tests.services import RedisServer, ServiceProcess, sandbox_process


@pytest.fixture(scope="module")
def generic_server(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    service = sandbox_process(
        redis_server.url, SANDBOX_MODE="generic", SANDBOX_ACCESS_TOKEN_FORMAT="opaque"
    ).start()
    yield service
    service.stop()


@pytest.fixture
def generic_client(redis_server: RedisServer, generic_server: ServiceProcess) -> FlaskClient:
    base = generic_server.url
    app = create_app(
        app_environment(
            redis_server,
            generic_server,
            AA_AUTHORIZE_URL=base + "/o/authorize/",
            AA_TOKEN_URL=base + "/o/token/",
            AA_REVOKE_URL=base + "/o/revoke/",
            AA_USERPROFILE_URL=base + "/o/userinfo/",
            AA_REQUIRE_ISS="0",
        )
    )
    return app.test_client()


def test_sign_in_reports_and_sign_out_work_with_opaque_tokens(
    generic_client: FlaskClient, sign_in: SignIn, generic_server: ServiceProcess
) -> None:
    assert sign_in(generic_client).status_code == 303
    assert generic_client.get("/flight-reports").status_code == 200
    assert b"Alice" in generic_client.get("/profile").data
    assert b"Opaque token" in generic_client.get("/session").data
    page = generic_client.get("/flight-reports").get_data(as_text=True)
    before = sandbox_counter(generic_server, "sandbox_revocations_total", outcome="refresh_token")
    out = generic_client.post("/logout", data={"csrf_token": csrf_token(page)})
    assert out.status_code == 303
    after = sandbox_counter(generic_server, "sandbox_revocations_total", outcome="refresh_token")
    assert after == before + 1


def test_a_403_insufficient_scope_offers_the_missing_scope(
    generic_client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(generic_client, query={"scope": "query_userinfo"})
    response = generic_client.get("/flight-reports")
    assert response.status_code == 403
    assert b"add_scope=manage_flightreports" in response.data
