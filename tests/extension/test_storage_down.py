"""With its Redis stopped, an app on the extension answers the documented 503, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_altitudeangel import AltitudeAngel, StorageUnavailable, login_required
from tests.extension.test_contract import STRANGER_CALLBACK, bare_host, settings, sign_in  # noqa: F401
from tests.services import RedisServer


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def app(settings: dict[str, str], own_redis: RedisServer) -> Flask:  # noqa: F811
    """A host app (Flask's cookie sessions) keeping the extension's state in ``own_redis``."""
    app = bare_host({**settings, "AA_REDIS_URL": own_redis.url})
    aa = AltitudeAngel(app, url_prefix="/auth")
    profile = login_required(lambda: aa.user_api.get(aa.config.userprofile_url).data)
    app.add_url_rule("/me", "me", profile)
    return app


def assert_unavailable(answer: object) -> None:
    assert getattr(answer, "status_code", None) == 503
    assert answer.headers["Retry-After"] == str(StorageUnavailable.retry_after)  # type: ignore[attr-defined]
    assert StorageUnavailable.title in answer.text  # type: ignore[attr-defined]


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert sign_in(client).status_code == 303
    assert client.get("/me").status_code == 200
    return client


def test_starting_a_sign_in_without_redis_is_a_503(app: Flask, own_redis: RedisServer) -> None:
    own_redis.stop()
    assert_unavailable(app.test_client().get("/auth/login"))


def test_a_callback_without_redis_is_a_503(app: Flask, own_redis: RedisServer) -> None:
    own_redis.stop()
    assert_unavailable(app.test_client().get(STRANGER_CALLBACK))


def test_reading_the_users_token_without_redis_is_a_503(app: Flask, own_redis: RedisServer) -> None:
    client = signed_in(app)
    own_redis.stop()
    assert_unavailable(client.get("/me"))
    assert client.get("/me", headers={"Accept": "application/json"}).json == {
        "error": StorageUnavailable.kind
    }


def test_signing_out_without_redis_is_a_503_and_works_once_it_is_back(
    app: Flask, own_redis: RedisServer
) -> None:
    client = signed_in(app)
    own_redis.stop()
    assert_unavailable(client.post("/auth/logout"))
    own_redis.start()
    assert client.post("/auth/logout").status_code == 303
    assert client.get("/me").status_code == 401
