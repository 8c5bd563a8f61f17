"""The token lifecycle on either storage: an app given ``storage=`` signs in, refreshes once
under a storm of threads, fetches one client token, and signs out, against the sandbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any, NamedTuple

import pytest
from flask import Flask

from flask_altitudeangel import AltitudeAngel, Refresh, login_required, signals
from flask_altitudeangel.storage import TokenStorage
from tests import peek
from tests.extension.memory_storage import MemoryStorage
from tests.extension.test_contract import bare_host, settings, sign_in  # noqa: F401 - a fixture

THREADS = 8


class Host(NamedTuple):
    app: Flask
    aa: AltitudeAngel
    storage: TokenStorage | None  # None: the default, the Redis store


@pytest.fixture(params=["redis", "memory"])
def host(request: pytest.FixtureRequest, settings: dict[str, str]) -> Host:  # noqa: F811
    """A host app whose tokens are kept by the Redis store (the default) or by a dict."""
    storage: TokenStorage | None = MemoryStorage() if request.param == "memory" else None
    # Waiters judge single flight, not speed: give the one refresh all the time it needs.
    app = bare_host({**settings, "AA_REFRESH_WAIT": "20"})
    aa = AltitudeAngel(app, url_prefix="/auth", storage=storage)
    profile = login_required(lambda: aa.user_api.get(aa.config.userprofile_url).data)
    app.add_url_rule("/me", "me", profile)
    return Host(app, aa, storage)


@pytest.fixture
def app(host: Host) -> Iterator[Flask]:
    yield host.app


def make_due(app: Flask, login_id: str) -> None:
    """Let the stored access token fall within the refresh margin now."""
    store = peek.token_store(app)
    stored = store.get(login_id)
    assert stored is not None
    due = replace(stored, expires_at=int(time.time()))
    assert store.compare_and_set(login_id, stored.version, due) is not None


def test_the_app_keeps_its_tokens_in_the_storage_it_was_given(host: Host) -> None:
    client = host.app.test_client()
    assert sign_in(client).status_code == 303
    login_id = peek.login_id(client)
    assert login_id is not None
    if host.storage is not None:
        assert peek.token_store(host.app) is host.storage
    assert peek.token_store(host.app).get(login_id) is not None
    assert client.get("/me").status_code == 200


def test_a_storm_of_threads_refreshes_a_due_token_exactly_once(app: Flask) -> None:
    client = app.test_client()
    assert sign_in(client).status_code == 303
    login_id = str(peek.login_id(client))
    make_due(app, login_id)
    stale = peek.token_store(app).get(login_id)
    assert stale is not None
    lifecycle = peek.lifecycle(app)
    roles: list[str] = []
    start = threading.Barrier(THREADS)

    def heard(_: Any, refresh: Refresh, **extra: Any) -> None:
        roles.append(refresh.role)

    def request(_: int) -> int:
        with app.app_context():
            start.wait()
            return lifecycle.current(login_id).version

    with signals.token_refreshed.connected_to(heard, app), ThreadPoolExecutor(THREADS) as pool:
        versions = list(pool.map(request, range(THREADS)))
    assert roles.count("refreshed") == 1
    assert versions == [stale.version + 1] * THREADS
    # The one refresh token spent was the newest: the next refresh works (a second spend of
    # the old one would have made the sandbox revoke the whole login).
    make_due(app, login_id)
    with app.app_context():
        assert lifecycle.current(login_id).version == stale.version + 3


def test_threads_share_one_client_token(app: Flask) -> None:
    source = peek.lifecycle(app).client
    start = threading.Barrier(THREADS)

    def fetch(_: int) -> str:
        start.wait()
        return source.get().access_token

    with ThreadPoolExecutor(THREADS) as pool:
        tokens = set(pool.map(fetch, range(THREADS)))
    assert len(tokens) == 1
    stored = peek.token_store(app).client_token()
    assert stored is not None and {stored.access_token} == tokens


def test_sign_out_clears_the_login_and_its_idle_entry(app: Flask) -> None:
    client = app.test_client()
    assert sign_in(client).status_code == 303
    login_id = str(peek.login_id(client))
    store = peek.token_store(app)
    assert login_id in store.idle_logins(time.time() + 10 * 86400)
    assert client.post("/auth/logout").status_code == 303
    assert store.get(login_id) is None
    assert login_id not in store.idle_logins(time.time() + 10 * 86400)
    assert client.get("/me").status_code == 401


def test_the_sweep_ends_idle_logins_through_the_storage(host: Host) -> None:
    client = host.app.test_client()
    assert sign_in(client).status_code == 303
    login_id = str(peek.login_id(client))
    with host.app.app_context():
        assert host.aa.sweep_idle_logins(now=time.time() + 10 * 86400) >= 1
    assert peek.token_store(host.app).get(login_id) is None
    assert client.get("/me").status_code == 401
