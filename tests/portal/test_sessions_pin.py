"""What portal/sessions.py relies on in the pinned Flask-Session: if an upgrade changes any of
it, a test here fails and says which assumption to revisit."""

from __future__ import annotations

import pickle
import warnings

import pytest
import redis
from flask import Flask, request
from flask_session.base import MsgSpecSerializer
from flask_session.redis import RedisSessionInterface

from portal.sessions import JsonOnly, RedisSessions, session_key
from tests.services import RedisServer


def test_flask_session_still_replaces_a_client_that_is_not_a_redis_redis() -> None:
    # Why RedisSessions hands it a stand-in and sets `client` afterwards.
    with pytest.warns(RuntimeWarning, match="No valid Redis instance"):
        interface = RedisSessionInterface(Flask(__name__), client=object())  # type: ignore[arg-type]
    assert isinstance(interface.client, redis.Redis)


def test_flask_session_still_unpickles_what_it_cannot_decode() -> None:
    # Why the serializer is replaced: its fallback runs pickle.loads on stored bytes.
    serializer = MsgSpecSerializer(Flask(__name__), format="json")
    assert serializer.decode(pickle.dumps({"planted": True})) == {"planted": True}
    assert JsonOnly().decode(pickle.dumps({"planted": True})) is None


def test_sessions_are_read_through_the_client_and_serializer_we_give(
    redis_server: RedisServer,
) -> None:
    app = Flask(__name__)
    app.config["SESSION_COOKIE_NAME"] = "pin_session"
    client = redis_server.client()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no stand-in warning for a real redis.Redis
        interface = RedisSessions(app, client, key_prefix="pin:session:")
    assert interface.client is client
    client.set(session_key("pin:session:", "known"), b'{"answer": 42}')
    client.set(session_key("pin:session:", "pickled"), pickle.dumps({"answer": 42}))
    with app.test_request_context(headers={"Cookie": "pin_session=known"}):
        assert dict(interface.open_session(app, request)) == {"answer": 42}
    with app.test_request_context(headers={"Cookie": "pin_session=pickled"}):
        session = interface.open_session(app, request)
        assert "answer" not in session and session.sid != "pickled"


def test_flask_session_still_names_every_key_through_get_store_id(
    redis_server: RedisServer,
) -> None:
    # Why overriding _get_store_id is enough to keep session ids out of Redis's key names.
    app = Flask(__name__)
    app.config["SESSION_COOKIE_NAME"] = "pin_session"
    client = redis_server.client()
    interface = RedisSessions(app, client, key_prefix="pin:session:")
    with app.test_request_context():
        session = interface.open_session(app, request)
        session["answer"] = 42
        interface.save_session(app, session, app.response_class())
        first = session.sid
        assert client.exists(session_key("pin:session:", first))
        assert not client.exists("pin:session:" + first)
        interface.regenerate(session)
        assert not client.exists(session_key("pin:session:", first))
        interface.save_session(app, session, app.response_class())
        assert client.exists(session_key("pin:session:", session.sid))
