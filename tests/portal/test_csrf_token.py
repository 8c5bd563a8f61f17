"""The page's CSRF token is the one Flask-WTF makes, and Flask-WTF takes it back."""

from __future__ import annotations

import time

import pytest
from flask import Flask, render_template_string, session
from flask_wtf.csrf import CSRFProtect, generate_csrf, validate_csrf
from itsdangerous import URLSafeTimedSerializer

from portal import csrf_token
from portal.csrf_token import SALT, signed

NOW = 1_780_000_000
VALUES = [
    "9f2c1e0b5d7a4c3e8b6a1f0d2e4c6a8b0d1f3e5a",  # what Flask-WTF keeps in a session
    "a" * 200,  # compresses: the payload is marked so
    "clé ünïcode",
    ["not", "a", "string"],
    "",
]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("secret_key", ["s" * 40, b"bytes-secret-key-" * 3])
def test_a_token_is_signed_as_itsdangerous_signs_it(
    value: object, secret_key: str | bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    expected = URLSafeTimedSerializer(secret_key, salt=SALT.decode()).dumps(value)
    assert signed(value, secret_key, now=NOW) == expected
    assert signed(value, secret_key, now=NOW) == expected  # and again, from what is kept


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret-key-" + "x" * 32, WTF_CSRF_TIME_LIMIT=None)
    CSRFProtect(app)
    csrf_token.init_app(app)
    return app


def test_a_page_carries_flask_wtfs_token_and_flask_wtf_takes_it(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(time, "time", lambda: NOW + 0.5)
    with app.test_request_context("/"):
        shown = render_template_string("{{ csrf_token() }}")
        secret = session["csrf_token"]
        assert generate_csrf() == shown  # the forms' token, in the same request
        validate_csrf(shown)
    with app.test_request_context("/"):
        session["csrf_token"] = secret
        assert generate_csrf() == shown  # Flask-WTF's own, made anew
    with app.test_request_context("/"):
        session["csrf_token"] = secret
        assert render_template_string("{{ csrf_token() }}") == shown


def test_a_new_session_gets_a_new_secret_and_a_secret_that_is_not_json_is_replaced(
    app: Flask,
) -> None:
    with app.test_request_context("/"):
        first = render_template_string("{{ csrf_token() }}")
        assert len(session["csrf_token"]) == 40
        validate_csrf(first)
    with app.test_request_context("/"):
        session["csrf_token"] = {1, 2}  # a set: not JSON
        token = render_template_string("{{ csrf_token() }}")
        assert isinstance(session["csrf_token"], str)
        assert token != first
        validate_csrf(token)


def test_templates_are_given_this_token_and_flask_wtfs_meta_tag_without_its_processor(
    app: Flask,
) -> None:
    assert all(f.__module__ != "flask_wtf.csrf" for f in app.template_context_processors[None])
    with app.test_request_context("/"):
        assert render_template_string("{{ csrf_token.__module__ }}") == "portal.csrf_token"
        shown = render_template_string("{{ csrf_token() }}")
        assert shown in render_template_string("{{ csrf_meta_tag() }}")
