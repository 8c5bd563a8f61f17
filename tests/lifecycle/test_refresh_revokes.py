"""A refresh that ends a login revokes what is left of its grant (review items 12 and 13)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from tests import peek
from tests.lifecycle.conftest import TOKEN_TTL
from tests.portal.conftest import sandbox_counter, sign_in_with, token_requests
from tests.portal.test_sign_out import csrf_token
from tests.services import ServiceProcess, inject_fault

AppFactory = Callable[..., Flask]
REVOCATIONS = "sandbox_revocations_total"


def revocations(sandbox: ServiceProcess, outcome: str) -> float:
    return sandbox_counter(sandbox, REVOCATIONS, outcome=outcome)


def eventually(check: Callable[[], bool], seconds: float = 15) -> bool:
    """Wait for a background revocation: tell whether ``check`` came true in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


def same_browser(app: Flask, client: FlaskClient) -> FlaskClient:
    """Return a second client of ``app`` holding ``client``'s session cookie (another tab)."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(name, cookie.value)
    return other


def test_a_refresh_that_lands_after_sign_out_revokes_the_refresh_token_it_received(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    app = short_app()
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    token = csrf_token(client)
    time.sleep(TOKEN_TTL / 2 + 0.5)  # within the refresh margin
    refreshes = token_requests(short_sandbox, "refresh_token")
    revoked = revocations(short_sandbox, "refresh_token")
    # The refresh is done for real at once; its answer then takes three seconds to arrive.
    inject_fault(short_sandbox, "token", "drip", seconds=3, interval=0.25)
    answers: list[int] = []
    page = threading.Thread(
        target=lambda: answers.append(client.get("/flight-reports").status_code)
    )
    page.start()
    assert eventually(lambda: token_requests(short_sandbox, "refresh_token") > refreshes)
    # Meanwhile the user signs out in another tab: that revokes the refresh token the
    # refresh just spent, which the server has already rotated.
    assert same_browser(app, client).post("/logout", data={"csrf_token": token}).status_code == 303
    page.join()
    assert answers == [401]
    # The rotated refresh token the late refresh received is revoked too: the grant is gone.
    assert eventually(lambda: revocations(short_sandbox, "refresh_token") == revoked + 1)


def test_a_refresh_refused_with_invalid_client_revokes_before_it_clears(
    short_app: AppFactory, short_sandbox: ServiceProcess
) -> None:
    app = short_app()
    client = app.test_client()
    assert sign_in_with(client).status_code == 303
    # Another instance of the app, with a client secret the server does not know (a rotation
    # gone wrong), serves the same browser: its refresh is refused with invalid_client.
    misconfigured = short_app(AA_CLIENT_SECRET="not-the-secret-" + "x" * 24)
    tab = same_browser(misconfigured, client)
    time.sleep(TOKEN_TTL / 2 + 0.5)
    attempts = revocations(short_sandbox, "invalid_client")
    assert tab.get("/flight-reports").status_code == 401
    assert peek.stored_token(client) is None
    # The grant was not ended by the server, so the app tries to revoke it, as at sign-out
    # (here with the same wrong secret, which the server refuses too).
    assert eventually(lambda: revocations(short_sandbox, "invalid_client") == attempts + 1)
