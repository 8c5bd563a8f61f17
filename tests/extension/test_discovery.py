"""Endpoint discovery: metadata fills what the settings leave out, and a lying issuer is refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app import create_app
from tests import peek
from tests.portal.conftest import app_environment, sign_in_with
from tests.services import RedisServer, ServiceProcess, sandbox_process


@pytest.fixture(scope="module")
def generic_server(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    service = sandbox_process(redis_server.url, SANDBOX_MODE="generic").start()
    yield service
    service.stop()


def test_a_server_with_other_paths_works_with_its_url_alone(
    redis_server: RedisServer, generic_server: ServiceProcess
) -> None:
    app = create_app(app_environment(redis_server, generic_server, AA_REQUIRE_ISS="0"))
    config = peek.config(app)
    assert config.authorize_url == generic_server.url + "/o/authorize/"
    assert config.token_url == generic_server.url + "/o/token/"
    assert config.revoke_url == generic_server.url + "/o/revoke/"
    assert config.userprofile_url == generic_server.url + "/o/userinfo/"
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    assert client.get("/profile").status_code == 200


def test_the_full_sandbox_gives_every_endpoint_and_asks_for_iss(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    env = app_environment(redis_server, sandbox)
    del env["AA_REQUIRE_ISS"]
    config = peek.config(create_app(env))
    assert config.end_session_url == sandbox.url + "/oauth/v2/logout"
    assert config.require_iss  # the metadata says iss is sent, so a response without it is refused
    assert config.issuer == sandbox.url


def test_settings_win_over_the_metadata(redis_server: RedisServer, sandbox: ServiceProcess) -> None:
    explicit = "https://auth.example.com/elsewhere/authorize"
    env = app_environment(redis_server, sandbox, AA_AUTHORIZE_URL=explicit, AA_REVOKE_URL="")
    config = peek.config(create_app(env))
    assert config.authorize_url == explicit
    assert config.revoke_url == ""
    assert config.token_url == sandbox.url + "/oauth/v2/token"  # not set: from the metadata


def test_metadata_naming_another_issuer_is_refused(redis_server: RedisServer) -> None:
    liar = sandbox_process(redis_server.url)
    liar.env = {**liar.env, "SANDBOX_ISSUER": f"http://localhost:{liar.port}"}
    liar.start()
    try:
        client = create_app(app_environment(redis_server, liar)).test_client()
        # Not ready, and no sign-in goes to it: nothing is asked of a server that is not trusted.
        readiness = client.get("/readyz")
        assert readiness.status_code == 503
        assert "RFC 8414" in " ".join(readiness.json["problems"])
        assert client.get("/login").status_code == 503
    finally:
        liar.stop()


def test_discovery_can_be_turned_off(
    redis_server: RedisServer, generic_server: ServiceProcess
) -> None:
    env = app_environment(redis_server, generic_server, AA_DISCOVERY="0")
    config = peek.config(create_app(env))
    assert config.authorize_url == generic_server.url + "/oauth/v2/authorize"  # the platform's
    assert config.metadata == {}


class OpenIdConfigurationOnly(BaseHTTPRequestHandler):
    """A server that publishes only OpenID Connect Discovery, and only the plain PKCE method."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        issuer = f"http://127.0.0.1:{self.server.server_port}"
        if self.path != "/.well-known/openid-configuration":
            self.send_error(404)
            return
        body = json.dumps(
            {
                "issuer": issuer,
                "authorization_endpoint": issuer + "/connect/authorize",
                "token_endpoint": issuer + "/connect/token",
                "code_challenge_methods_supported": ["plain"],
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_openid_discovery_is_read_when_there_is_no_rfc8414_document(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    # A stand-in server of a dozen lines: no provider here publishes only this document.
    server = ThreadingHTTPServer(("127.0.0.1", 0), OpenIdConfigurationOnly)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{server.server_port}"
    try:
        config = peek.config(create_app(app_environment(redis_server, sandbox, AA_AUTH_URL=issuer)))
    finally:
        server.shutdown()
    assert config.authorize_url == issuer + "/connect/authorize"
    assert config.token_url == issuer + "/connect/token"
    assert config.issuer == issuer
    assert not config.use_pkce  # S256 is not offered: no challenge the server would refuse
