"""The extension's security events reach the portal's log, each with its request id."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

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
