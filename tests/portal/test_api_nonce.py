"""An API that asks for its own DPoP nonce (RFC 9449 §9) is answered with a retry carrying it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.portal.conftest import app_environment, portal_for, sign_in_with
from tests.services import RedisServer, ServiceProcess, metric_sum, sandbox_process


@pytest.fixture(scope="module")
def nonce_sandbox(redis_server: RedisServer) -> Iterator[ServiceProcess]:
    service = sandbox_process(redis_server.url, SANDBOX_DPOP_NONCE="1").start()
    yield service
    service.stop()


def test_the_api_is_asked_again_with_the_nonce_it_answered_use_dpop_nonce_with(
    redis_server: RedisServer, nonce_sandbox: ServiceProcess
) -> None:
    # The API on another origin than the token endpoint, as on the platform (api. and auth.):
    # the nonce learnt at the token endpoint is not the API's, so its first call is refused.
    api_origin = nonce_sandbox.url.replace("127.0.0.1", "localhost")
    env = app_environment(redis_server, nonce_sandbox, AA_API_URL=api_origin)
    client = portal_for(env).test_client()
    assert sign_in_with(client).status_code == 303
    refused_before = metric_sum(nonce_sandbox, "sandbox_api_requests_total", status="401")

    assert client.get("/flight-reports").status_code == 200

    refused = metric_sum(nonce_sandbox, "sandbox_api_requests_total", status="401")
    assert refused - refused_before == 1  # the use_dpop_nonce answer, then the retry passed
    assert client.get("/flight-reports").status_code == 200  # and the nonce is remembered
    assert metric_sum(nonce_sandbox, "sandbox_api_requests_total", status="401") == refused
