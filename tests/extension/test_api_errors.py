"""An API's 4xx and 5xx answers raise ApiError, as requests' raise_for_status would."""

from __future__ import annotations

import pytest
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

from altitudeangel_sandbox.pytest_plugin import Sandbox
from flask_altitudeangel import AltitudeAngel, ApiError, ApiResponse
from tests.extension.test_contract import REDIRECT_URI, bare_host, sign_in
from tests.services import RedisServer

MISSING_REPORT = "/flightReport/no-such-report"


@pytest.fixture(scope="module")
def settings(altitudeangel_sandbox: Sandbox, redis_server: RedisServer) -> dict[str, str]:
    altitudeangel_sandbox.register_redirect_uri(REDIRECT_URI)
    return {
        "SECRET_KEY": "api-errors-test-secret-key-" + "e" * 32,
        "AA_AUTH_URL": altitudeangel_sandbox.url,
        "AA_API_URL": altitudeangel_sandbox.url,
        "AA_CLIENT_ID": altitudeangel_sandbox.client_id,
        "AA_CLIENT_SECRET": altitudeangel_sandbox.client_secret,
        "AA_REDIRECT_URI": REDIRECT_URI,
        "AA_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/5",
    }


def calling_host(settings: dict[str, str]) -> Flask:
    """A host with a page that calls ``path`` as the user and says what it got."""
    app = bare_host(settings)
    aa = AltitudeAngel(app, url_prefix="/auth")

    def call(method: str, path: str) -> ResponseReturnValue:
        try:
            answer = aa.user_api.request(method.upper(), aa.config.api_url + "/" + path)
        except ApiError as error:
            refused = {"status": error.status, "error": error.error}
            return jsonify(raised=type(error).__name__, description=error.description, **refused)
        assert isinstance(answer, ApiResponse)
        return jsonify(raised=None, status=answer.status)

    app.add_url_rule("/call/<method>/<path:path>", "call", call)
    return app


def test_a_404_raises_with_the_error_and_description_the_api_gave(
    settings: dict[str, str],
) -> None:
    client = calling_host(settings).test_client()
    assert sign_in(client).status_code == 303
    said = client.get("/call/get" + MISSING_REPORT).get_json()
    assert said == {
        "raised": "ApiError",
        "status": 404,
        "error": "not_found",
        "description": "No such flight report.",
    }
    assert client.get("/call/get/userProfile").get_json() == {"raised": None, "status": 200}


def test_a_405_raises_too(
    settings: dict[str, str],
) -> None:
    client = calling_host(settings).test_client()
    assert sign_in(client).status_code == 303
    said = client.get("/call/post/userProfile").get_json()
    assert said["raised"] == "ApiError" and said["status"] == 405
    assert said["error"] == "method_not_allowed"
