"""docker-compose.yml's wiring, checked without Docker: its settings, run against real services.

No Docker engine runs here, so the containers' names are mapped to local ports: the sandbox's
in-network name (``sandbox:5001``) to its loopback address, and the browser's name for it
(``localhost:5001``) to ``localhost`` on the same port. The two names stay different, as they
are in compose, so a setting that mixes them up fails here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from flask.testing import FlaskClient

from app import create_app
from flask_altitudeangel import Config, ConfigError, load_config
from portal.settings import ENV_NAMES, SettingsError, extension_settings, load_settings
from tests.cluster.conftest import USERS
from tests.deployed.topology import PLACEHOLDER
from tests.oauth_driver import SandboxUser, parse_forms
from tests.services import ROOT, RedisServer, ServiceProcess, sandbox_process

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


REDIS_PASSWORD = "compose0test0redis0password"


def extension_config(env: dict[str, str]) -> Config:
    """Return the sign-in extension's settings as it checks them at start-up, no metadata read."""
    return load_config(extension_settings(env), ENV_NAMES)


def environment(compose: dict[str, Any], service: str) -> dict[str, str]:
    """Return a service's environment, with ${REDIS_PASSWORD} put in as compose would."""
    env = compose["services"][service]["environment"].items()
    return {k: str(v).replace("${REDIS_PASSWORD}", REDIS_PASSWORD) for k, v in env}


def localised(env: dict[str, str], port: int) -> dict[str, str]:
    """Map the compose host names to this machine, keeping the browser's and the app's apart."""
    names = {"http://sandbox:5001": f"http://127.0.0.1:{port}", ":5001": f":{port}"}
    mapped = {}
    for key, value in env.items():
        for old, new in names.items():
            value = value.replace(old, new)
        mapped[key] = value
    return mapped


@pytest.fixture(scope="module")
def compose_sandbox(compose: dict[str, Any], redis_server: RedisServer) -> Iterator[ServiceProcess]:
    service = sandbox_process(redis_server.url)
    env = localised(environment(compose, "sandbox"), service.port)
    service.env = {
        **service.env,
        "SANDBOX_ISSUER": env["SANDBOX_ISSUER"],
        "SANDBOX_EXTRA_REDIRECT_URIS": env["SANDBOX_EXTRA_REDIRECT_URIS"],
    }
    try:
        yield service.start()
    finally:
        service.stop()


def test_the_services_agree_on_urls_and_addresses(compose: dict[str, Any]) -> None:
    services = compose["services"]
    app, sandbox = environment(compose, "app"), environment(compose, "sandbox")
    nginx = environment(compose, "nginx")

    assert services["app"]["deploy"]["replicas"] == 2
    assert sandbox["SANDBOX_ISSUER"] == app["AA_ISSUER"] == "http://localhost:5001"
    assert app["AA_AUTHORIZE_URL"].startswith(sandbox["SANDBOX_ISSUER"] + "/")
    assert app["AA_END_SESSION_URL"].startswith(sandbox["SANDBOX_ISSUER"] + "/")
    assert app["AA_REDIRECT_URI"] in sandbox["SANDBOX_EXTRA_REDIRECT_URIS"].split()
    post_logout = sandbox["SANDBOX_EXTRA_POST_LOGOUT_REDIRECT_URIS"].split()
    assert extension_config(app).post_logout_redirect_uri in post_logout
    assert app["AA_REDIRECT_URI"].startswith(nginx["PORTAL_PUBLIC_URL"] + "/")
    # The sandbox posts back-channel logouts to a replica over the backend network, as nginx
    # reaches them.
    backchannel = urlsplit(sandbox["SANDBOX_EXTRA_BACKCHANNEL_LOGOUT_URIS"])
    assert nginx["PORTAL_UPSTREAM_SERVERS"] == f"server {backchannel.netloc} resolve;"
    assert backchannel.path == "/backchannel-logout"
    assert "backend" in services["app"]["networks"] and "backend" in services["sandbox"]["networks"]
    assert urlsplit(nginx["PORTAL_PUBLIC_URL"]).port == 8443
    assert "127.0.0.1:8443:443" in services["nginx"]["ports"]
    assert app["SESSION_COOKIE_SECURE"] == "1" and app["TRUST_PROXY"] == "1"
    nginx_address = services["nginx"]["networks"]["edge"]["ipv4_address"]
    assert app["FORWARDED_ALLOW_IPS"] == nginx_address
    assert app["SECRET_KEY"].startswith("${SECRET_KEY:?")  # no default secret in the file
    redis_command = services["redis"]["command"]
    password = redis_command[redis_command.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?")  # required, and no default
    assert environment(compose, "redis")["REDISCLI_AUTH"] == REDIS_PASSWORD  # the healthcheck
    for url in (app["REDIS_URL"], sandbox["SANDBOX_REDIS_URL"]):
        assert urlsplit(url).password == REDIS_PASSWORD and urlsplit(url).hostname == "redis"
    for name, service in services.items():
        if name != "tls":  # a one-shot job, waited for until it completes
            assert "healthcheck" in service, name
    assert services["nginx"]["depends_on"]["tls"] == {"condition": "service_completed_successfully"}


def test_nginx_is_given_every_setting_of_the_shipped_template(compose: dict[str, Any]) -> None:
    nginx = compose["services"]["nginx"]
    template = ROOT / "deploy" / "nginx" / "portal.conf.template"
    mount = f"./{template.relative_to(ROOT)}:/etc/nginx/templates/default.conf.template:ro"

    assert mount in nginx["volumes"]
    needed = set(PLACEHOLDER.findall(template.read_text()))
    assert needed == set(environment(compose, "nginx")) - {"NGINX_ENVSUBST_FILTER"}


def test_the_app_settings_of_compose_pass_validation_as_written(compose: dict[str, Any]) -> None:
    env = {**environment(compose, "app"), "SECRET_KEY": "compose-test-secret-key-" + "s" * 32}

    settings = load_settings(env)

    assert extension_config(env).token_url == "http://sandbox:5001/oauth/v2/token"
    assert extension_config(env).require_iss
    assert settings.flow_trace  # PORTAL_DEMO=1: the compose set-up is the demo
    assert settings.session_cookie_secure  # nginx serves https://localhost:8443
    with pytest.raises(ConfigError, match="AA_ALLOW_HTTP"):
        extension_config({**env, "AA_ALLOW_HTTP": "0"})
    # compose itself refuses to start without SECRET_KEY (see the test above); the settings
    # would take the published demo key only because PORTAL_DEMO=1 says this is the demo.
    production = {k: v for k, v in env.items() if k not in ("SECRET_KEY", "PORTAL_DEMO")}
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        load_settings(production)


def test_the_app_settings_of_compose_sign_in_and_out(
    compose: dict[str, Any], compose_sandbox: ServiceProcess, redis_server: RedisServer
) -> None:
    env = localised(environment(compose, "app"), compose_sandbox.port)
    env.update(REDIS_URL=redis_server.url, SECRET_KEY="compose-test-secret-key-" + "s" * 32)
    app = create_app(env)
    app.config["TESTING"] = True
    client: FlaskClient = app.test_client()

    started = client.get("/login")
    assert started.status_code == 302
    assert started.headers["Location"].startswith(f"http://localhost:{compose_sandbox.port}/")
    person = SandboxUser("alice", USERS["alice"])
    callback = person.authorize(started.headers["Location"], env["AA_REDIRECT_URI"])
    parts = urlsplit(callback)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 303

    page = client.get("/flight-reports")
    assert page.status_code == 200, page.text[:300]
    form = next(f for f in parse_forms(page.text) if f.action.endswith("/logout"))
    assert client.post("/logout", data={"csrf_token": form.fields["csrf_token"]}).status_code == 303
