"""The sandbox's fixture as a host's tests meet it: its Redis, its mode and the shipped driver."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from altitudeangel_sandbox.processes import ServiceProcess, free_port, gunicorn_process
from altitudeangel_sandbox.testing import Sandbox
from tests.services import ROOT

EXAMPLE = ROOT / "examples" / "profile"


@pytest.fixture(scope="module")
def example(altitudeangel_sandbox: Sandbox) -> Iterator[ServiceProcess]:
    """The example under gunicorn, keeping its data in the fixture's own Redis."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "AA_AUTH_URL": altitudeangel_sandbox.url,
        "AA_API_URL": altitudeangel_sandbox.url,
        "AA_CLIENT_ID": altitudeangel_sandbox.client_id,
        "AA_CLIENT_SECRET": altitudeangel_sandbox.client_secret,
        "AA_REDIRECT_URI": url + "/callback",
        "AA_REDIS_URL": altitudeangel_sandbox.redis_url(4),
        "SECRET_KEY": "fixture-test-secret-key-" + "f" * 32,
        "PYTHONPATH": str(ROOT),
    }
    options = ("--chdir", str(EXAMPLE))
    service = gunicorn_process("app:create_app()", env, port=port, options=options, health_path="/")
    altitudeangel_sandbox.register_redirect_uri(url + "/callback")
    yield service.start()
    service.stop()


def test_the_fixture_lends_its_redis_server_to_the_hosts_app(
    altitudeangel_sandbox: Sandbox,
) -> None:
    own = redis.Redis.from_url(altitudeangel_sandbox.redis_url(2), socket_timeout=5)
    own.set("host-key", "1")
    assert altitudeangel_sandbox.redis.client(2).get("host-key") == b"1"
    assert altitudeangel_sandbox.redis.client(0).get("host-key") is None  # the sandbox's
    with pytest.raises(ValueError, match="sandbox's own state"):
        altitudeangel_sandbox.redis_url(0)
    own.close()


def test_the_shipped_driver_signs_a_host_app_in_without_a_browser(
    altitudeangel_sandbox: Sandbox, example: ServiceProcess
) -> None:
    browser = altitudeangel_sandbox.sign_in(example.url, "bob", next_path="/profile")
    page = browser.get(example.url + "/profile", allow_redirects=False, timeout=10)
    assert page.status_code == 200
    assert "Signed in as Bob" in page.text
    keys = altitudeangel_sandbox.redis.client(4).keys("*")
    assert keys, "the example keeps its sign-in in database 4 of the fixture's Redis"


MODE_TEST = """
def test_mode(altitudeangel_sandbox):
    assert altitudeangel_sandbox.mode == "{mode}"
    assert altitudeangel_sandbox.token_url == altitudeangel_sandbox.url + "{token_path}"
    assert bool(altitudeangel_sandbox.metadata) is {published}
"""


def test_the_ini_option_chooses_the_sandbox_mode(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naltitudeangel_sandbox_mode = generic\n")
    pytester.makepyfile(MODE_TEST.format(mode="generic", token_path="/o/token/", published=True))
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_a_conftest_fixture_overrides_the_sandbox_mode(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        "import pytest\n\n@pytest.fixture(scope='session')\n"
        "def altitudeangel_sandbox_mode():\n    return 'aa-public'\n"
    )
    pytester.makepyfile(
        MODE_TEST.format(mode="aa-public", token_path="/oauth/v2/token", published=False)
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
