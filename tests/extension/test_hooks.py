"""``before_sign_in``: a host refuses or redirects a sign-in step before the extension acts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import redis
from flask import Flask, redirect
from werkzeug.exceptions import TooManyRequests
from werkzeug.wrappers import Response

from flask_altitudeangel import signals
from tests.extension.test_contract import REDIRECT_URI, host, settings, sign_in  # noqa: F401
from tests.oauth_driver import USERS, SandboxUser


@contextmanager
def receiving(app: Flask, receiver: Any) -> Iterator[list[str]]:
    """Connect ``receiver`` to ``before_sign_in`` for ``app``; collect the steps it was asked."""
    steps: list[str] = []

    def heard(sender: Flask, step: str, **extra: Any) -> Any:
        steps.append(step)
        return receiver(step)

    with signals.before_sign_in.connected_to(heard, app):
        yield steps


def pending_keys(settings: dict[str, str]) -> int:  # noqa: F811
    client = redis.Redis.from_url(settings["AA_REDIS_URL"])
    try:
        return len(client.keys("*pending:*"))
    finally:
        client.close()


def test_a_receiver_that_returns_a_response_answers_instead_of_the_sign_in(
    settings: dict[str, str],  # noqa: F811
) -> None:
    app = host(settings)
    before = pending_keys(settings)
    with receiving(app, lambda step: redirect("/closed", 303)) as steps:
        answer = app.test_client().get("/auth/login?next=/")
    assert steps == ["login"]
    assert (answer.status_code, answer.headers["Location"]) == (303, "/closed")
    assert "Set-Cookie" not in answer.headers  # no attempt was bound to the browser
    assert pending_keys(settings) == before  # nor written


def test_a_receiver_that_raises_refuses_with_its_own_error(
    settings: dict[str, str],  # noqa: F811
) -> None:
    app = host(settings)

    def refuse(step: str) -> None:
        raise TooManyRequests()

    with receiving(app, refuse):
        assert app.test_client().get("/auth/login").status_code == 429


def test_a_receiver_that_returns_none_lets_every_step_go_on(
    settings: dict[str, str],  # noqa: F811
) -> None:
    app = host(settings)
    with receiving(app, lambda step: None) as steps:
        assert sign_in(app.test_client()).status_code == 303
    assert steps == ["login", "callback"]


def test_a_refused_callback_leaves_the_attempt_unspent(
    settings: dict[str, str],  # noqa: F811
) -> None:
    app = host(settings)
    client = app.test_client()
    started = client.get("/auth/login")
    person = SandboxUser("alice", USERS["alice"])
    back = urlsplit(person.authorize(started.headers["Location"], REDIRECT_URI, "allow"))
    callback = f"{back.path}?{back.query}"
    refusal = Response("slow down", 429)
    with receiving(app, lambda step: refusal if step == "callback" else None):
        assert client.get(callback).status_code == 429
    assert client.get(callback).status_code == 303  # the hook ran before the state was spent
