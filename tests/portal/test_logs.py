"""The extension's security events reach the portal's log, each with its request id."""

from __future__ import annotations

import io
import logging
import os
import re
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from portal.logs import assign_request_id
from tests.portal.conftest import SignIn
from tests.portal.test_sign_out import csrf_token


@pytest.fixture
def log_lines(portal_app: Flask) -> Iterator[io.StringIO]:
    """Catch what the portal's log handler writes for the extension's events."""
    handler = next(iter(logging.getLogger("flask_altitudeangel").handlers), None)
    assert isinstance(handler, logging.StreamHandler), "the portal's logging shows no events"
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


def event_lines(written: io.StringIO, event: str) -> list[str]:
    return [line for line in written.getvalue().splitlines() if f"event={event}" in line]


def test_sign_in_and_out_are_logged_with_the_request_id(
    client: FlaskClient, sign_in: SignIn, log_lines: io.StringIO
) -> None:
    sign_in(client)
    token = csrf_token(client)
    client.post("/logout", data={"csrf_token": token}, headers={"X-Request-ID": "req-signout-1"})

    (signed_in,) = event_lines(log_lines, "signed_in")
    assert " INFO flask_altitudeangel.events request_id=" in signed_in
    (signed_out,) = event_lines(log_lines, "signed_out")
    assert "flask_altitudeangel.events request_id=req-signout-1 " in signed_out


def test_a_refused_callback_is_logged_with_its_reason(
    client: FlaskClient, log_lines: io.StringIO
) -> None:
    client.get("/callback?state=" + "s" * 43 + "&code=c", headers={"X-Request-ID": "req-refused-1"})
    (refused,) = event_lines(log_lines, "sign_in_refused")
    assert "flask_altitudeangel.events request_id=req-refused-1 " in refused
    assert "reason=invalid_state" in refused


def test_a_request_id_is_the_callers_when_sane_else_a_new_one(client: FlaskClient) -> None:
    given = client.get("/", headers={"X-Request-ID": "caller-chosen-1"}).headers["X-Request-ID"]
    assert given == "caller-chosen-1"
    made = [client.get("/", headers={"X-Request-ID": "bad id!"}).headers["X-Request-ID"]]
    made += [client.get("/").headers["X-Request-ID"] for _ in range(20)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", made_id) for made_id in made)
    assert len(set(made)) == len(made)


def test_each_forked_worker_makes_its_own_request_ids() -> None:
    # gunicorn forks its workers: the generator behind the ids is reseeded in each child.
    def made() -> str:
        here = SimpleNamespace()
        assign_request_id(SimpleNamespace(environ={}), here)  # type: ignore[arg-type]
        return str(here.request_id)

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(write, made().encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        in_child = pipe.read()
    os.waitpid(child, 0)
    assert re.fullmatch(r"[0-9a-f]{16}", in_child)
    assert made() != in_child
