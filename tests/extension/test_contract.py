"""What the extension promises a host app: its routes under a prefix, nothing else added to the
app, errors the host can answer itself, and signals for each sign-in's outcome."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from altitudeangel_sandbox.pytest_plugin import Sandbox
from flask_altitudeangel import AltitudeAngel, SignInFailed, login_required, signals
from tests.oauth_driver import USERS, SandboxUser
from tests.services import RedisServer

# Nothing listens there: the sandbox's redirect is handed to the in-process app's test client.
REDIRECT_URI = "http://127.0.0.1:5000/auth/callback"
# A well-formed callback for a sign-in this browser never started.
STRANGER_CALLBACK = "/auth/callback?code=x&state=" + "s" * 43
# Keyed by blueprint name, and by None for the whole app.
REGISTRIES = (
    "before_request_funcs",
    "after_request_funcs",
    "teardown_request_funcs",
    "error_handler_spec",
    "template_context_processors",
    "url_value_preprocessors",
    "url_default_functions",
)
APP_WIDE = ("teardown_appcontext_funcs", "shell_context_processors", "url_build_error_handlers")


@pytest.fixture(scope="module")
def settings(altitudeangel_sandbox: Sandbox, redis_server: RedisServer) -> dict[str, str]:
    altitudeangel_sandbox.register_redirect_uri(REDIRECT_URI)
    return {
        "SECRET_KEY": "contract-test-secret-key-" + "c" * 32,
        "AA_AUTH_URL": altitudeangel_sandbox.url,
        "AA_API_URL": altitudeangel_sandbox.url,
        "AA_CLIENT_ID": altitudeangel_sandbox.client_id,
        "AA_CLIENT_SECRET": altitudeangel_sandbox.client_secret,
        "AA_REDIRECT_URI": REDIRECT_URI,
        "AA_REDIS_URL": f"redis://127.0.0.1:{redis_server.port}/4",
    }


def bare_host(settings: dict[str, str], templates: Path | None = None) -> Flask:
    """Return a host app with one page of its own, before the extension is bound."""
    app = Flask(__name__, template_folder=str(templates) if templates else None)
    app.config.update(settings)
    app.add_url_rule("/", "home", lambda: "home")
    return app


def host(settings: dict[str, str], templates: Path | None = None) -> Flask:
    app = bare_host(settings, templates)
    AltitudeAngel(app, url_prefix="/auth")
    app.add_url_rule("/secret", "secret", login_required(lambda: "secret"))
    return app


def sign_in(
    client: FlaskClient, username: str = "alice", decision: str = "allow", **query: str
) -> TestResponse:
    """Sign in through the prefixed routes; return the app's answer to the callback."""
    started = client.get("/auth/login", query_string=query)
    assert started.status_code == 302, started.text[:300]
    person = SandboxUser(username, USERS[username])
    callback = urlsplit(person.authorize(started.headers["Location"], REDIRECT_URI, decision))
    assert callback.path == "/auth/callback"
    return client.get(f"{callback.path}?{callback.query}")


def decline(client: FlaskClient) -> TestResponse:
    # A scope bob grants in no test, so the sandbox asks him rather than remembering a yes.
    return sign_in(client, "bob", "deny", scope="access_archive")


def hooks(app: Flask) -> dict[str, Any]:
    return copy.deepcopy({name: getattr(app, name) for name in (*REGISTRIES, *APP_WIDE)})


@contextmanager
def heard(app: Flask) -> Iterator[tuple[list[dict[str, Any]], list[dict[str, Any]]]]:
    """Collect what ``sign_in_failed`` and ``signed_in`` send for ``app`` meanwhile."""
    failures: list[dict[str, Any]] = []
    sign_ins: list[dict[str, Any]] = []
    with (
        signals.sign_in_failed.connected_to(lambda _, **sent: failures.append(sent), app),
        signals.signed_in.connected_to(lambda _, **sent: sign_ins.append(sent), app),
    ):
        yield failures, sign_ins


def test_the_sign_in_routes_live_under_the_url_prefix(
    settings: dict[str, str], altitudeangel_sandbox: Sandbox
) -> None:
    app = bare_host(settings)
    aa = AltitudeAngel(app, url_prefix="/auth")
    client = app.test_client()
    started = client.get("/auth/login")
    assert started.status_code == 302
    assert started.headers["Location"].startswith(altitudeangel_sandbox.authorize_url + "?")
    assert client.get("/login").status_code == 404
    assert client.get(STRANGER_CALLBACK.removeprefix("/auth")).status_code == 404
    assert client.post("/logout").status_code == 404
    with app.test_request_context():
        assert url_for("altitudeangel.signed_out") == "/auth/signed-out"
        assert aa.sign_in_url("/") == "/auth/login?next=/"
        assert aa.config.post_logout_redirect_uri == "http://127.0.0.1:5000/auth/signed-out"


def test_a_full_sign_in_goes_through_the_prefixed_routes(settings: dict[str, str]) -> None:
    client = host(settings).test_client()
    assert client.get("/secret").status_code == 401
    finished = sign_in(client)
    assert finished.status_code == 303
    assert finished.headers["Location"] == "/"
    assert client.get("/secret").text == "secret"


def test_binding_adds_no_hook_handler_or_processor_to_the_app(settings: dict[str, str]) -> None:
    app = bare_host(settings)
    before, extensions = hooks(app), set(app.extensions)
    jinja_before = (set(app.jinja_env.globals), set(app.jinja_env.filters))
    session_interface = app.session_interface
    AltitudeAngel(app, url_prefix="/auth")
    after = hooks(app)
    for name in REGISTRIES:
        assert after[name].get(None) == before[name].get(None), name
        assert set(after[name]) - set(before[name]) <= {"altitudeangel"}, name
    for name in APP_WIDE:
        assert after[name] == before[name], name
    assert (set(app.jinja_env.globals), set(app.jinja_env.filters)) == jinja_before
    assert app.session_interface is session_interface
    assert set(app.extensions) - extensions == {"altitudeangel"}


def test_binding_adds_only_the_extensions_own_routes(settings: dict[str, str]) -> None:
    app = bare_host(settings)
    before = {rule.rule for rule in app.url_map.iter_rules()}
    AltitudeAngel(app, url_prefix="/auth")
    added = {
        (rule.endpoint, rule.rule) for rule in app.url_map.iter_rules() if rule.rule not in before
    }
    assert added == {
        ("altitudeangel.login", "/auth/login"),
        ("altitudeangel.callback", "/auth/callback"),
        ("altitudeangel.logout", "/auth/logout"),
        ("altitudeangel.signed_out", "/auth/signed-out"),
        ("altitudeangel.backchannel_logout", "/auth/backchannel-logout"),
    }


def test_a_refused_callback_answers_with_the_default_page(settings: dict[str, str]) -> None:
    client = host(settings).test_client()
    stranger = client.get(STRANGER_CALLBACK)
    declined = decline(client)
    assert (stranger.status_code, declined.status_code) == (400, 403)
    for page in (stranger, declined):
        assert page.mimetype == "text/html"
        assert "<h1>Sign-in failed</h1>" in page.text
        assert "Nothing was saved." in page.text
        assert "Traceback" not in page.text
        assert page.headers["Cache-Control"] == "no-store"


def test_a_host_error_handler_answers_instead_of_the_default_page(
    settings: dict[str, str],
) -> None:
    app = host(settings)

    @app.errorhandler(SignInFailed)
    def own_page(error: SignInFailed) -> tuple[str, int]:
        return f"our own page: {error.reason}", 409

    answer = app.test_client().get(STRANGER_CALLBACK)
    assert answer.status_code == 409
    assert answer.text == "our own page: invalid_state"


def test_a_host_template_replaces_the_default_page(
    settings: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "altitudeangel").mkdir()
    page = "{{ error.code }} {{ error.reason }}: try again from our home page"
    (tmp_path / "altitudeangel" / "error.html").write_text(page)
    answer = host(settings, tmp_path).test_client().get(STRANGER_CALLBACK)
    assert answer.status_code == 400
    assert answer.text == "400 invalid_state: try again from our home page"


def test_each_refused_callback_sends_sign_in_failed_once_with_its_reason(
    settings: dict[str, str],
) -> None:
    app = host(settings)
    client = app.test_client()
    with heard(app) as (failures, sign_ins):
        assert client.get(STRANGER_CALLBACK).status_code == 400
        assert decline(client).status_code == 403
    assert [failure["reason"] for failure in failures] == ["invalid_state", "access_denied"]
    assert sign_ins == []


def test_a_successful_sign_in_sends_signed_in_once_and_no_failure(
    settings: dict[str, str],
) -> None:
    app = host(settings)
    with heard(app) as (failures, sign_ins):
        assert sign_in(app.test_client()).status_code == 303
    assert failures == []
    assert [entry["login"].user_name for entry in sign_ins] == ["Alice Liddell"]
