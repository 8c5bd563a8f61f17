"""The page's CSRF token: Flask-WTF's, byte for byte, without rebuilding its serializer.

Every page carries one in its sign-out form. Flask-WTF's ``generate_csrf`` reads the app, g
and the session through their proxies, builds an itsdangerous serializer and signer, and
derives the signing key again, for every token: ~280,000 instructions, a twentieth of a page
view. This signs the same token (the session's CSRF secret as compact JSON, base64url, a
timestamp, an HMAC-SHA1 under the key itsdangerous derives from the secret and the salt) with
the key derived once. Flask-WTF still checks every token that comes back, and its own
``generate_csrf`` (the forms') finds this request's token in g and gives the same one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
import zlib
from functools import lru_cache

from flask import Flask, g, session

SALT = b"wtf-csrf-token"  # Flask-WTF's, for every token it makes and checks


def init_app(app: Flask) -> None:
    """Give the app's templates this ``csrf_token``, in place of Flask-WTF's (set up first)."""

    def csrf_token() -> str:
        return token_for(app)

    # Flask-WTF's context processor gives every render what its Jinja globals give already
    # (its csrf_token and csrf_meta_tag): without it, templates find this csrf_token among
    # the globals, where it replaces Flask-WTF's, and no processor runs for it on each render.
    processors = app.template_context_processors[None]
    processors[:] = [f for f in processors if getattr(f, "__module__", None) != "flask_wtf.csrf"]
    app.jinja_env.globals["csrf_token"] = csrf_token


def token_for(app: Flask) -> str:
    """Return this request's CSRF token, as ``flask_wtf.csrf.generate_csrf()`` does."""
    config = app.config
    secret_key = config.get("WTF_CSRF_SECRET_KEY", app.secret_key)
    field = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if secret_key is None or field is None:
        raise RuntimeError("A secret key and a field name are required to use CSRF.")
    here = g._get_current_object()
    if field in here:
        return str(here.get(field))
    stored = session._get_current_object()  # type: ignore[attr-defined]
    if field not in stored:
        stored[field] = hashlib.sha1(os.urandom(64)).hexdigest()  # nosec B324 - as Flask-WTF makes it
    try:
        token = signed(stored[field], secret_key)
    except TypeError:  # not JSON: Flask-WTF makes a new secret
        stored[field] = hashlib.sha1(os.urandom(64)).hexdigest()  # nosec B324 - as Flask-WTF makes it
        token = signed(stored[field], secret_key)
    setattr(here, field, token)
    return token


def signed(value: object, secret_key: str | bytes, now: int | None = None) -> str:
    """Sign ``value`` as ``URLSafeTimedSerializer(secret_key, salt=SALT).dumps`` does."""
    payload = _text_payload(value) if isinstance(value, str) else _payload(value)
    stamp = int(time.time()) if now is None else now
    payload += b"." + _b64(stamp.to_bytes(8, "big").lstrip(b"\x00"))
    signature = hmac.new(_signing_key(secret_key), payload, hashlib.sha1).digest()
    return (payload + b"." + _b64(signature)).decode()


def _payload(value: object) -> bytes:
    """The value as compact JSON, compressed when that is shorter, in base64url."""
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    compressed = zlib.compress(data)
    return b"." + _b64(compressed) if len(compressed) < len(data) - 1 else _b64(data)


@lru_cache(maxsize=1024)
def _text_payload(value: str) -> bytes:
    """A session's secret is the same on each of its pages: zlib alone costs ~87,000
    instructions, to find that 42 bytes do not compress."""
    return _payload(value)


@lru_cache(maxsize=8)
def _signing_key(secret_key: str | bytes) -> bytes:
    """itsdangerous's default key derivation ("django-concat")."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hashlib.sha1(SALT + b"signer" + secret).digest()  # nosec B324 - itsdangerous's


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")
