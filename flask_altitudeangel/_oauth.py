"""Calls to the authorization server, made with Authlib's OAuth 2.0 client.

Every failure becomes one of two errors: the server said no (``TokenRejected``), or it could
not answer now (``AuthServerUnavailable``), so callers never see a requests exception.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from flask_altitudeangel._config import Config
from flask_altitudeangel._metrics import TOKEN_ENDPOINT_SECONDS
from flask_altitudeangel.errors import AuthServerUnavailable, TokenRejected

REVOKE_READ_TIMEOUT = 3.0
log = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _background() -> ThreadPoolExecutor:
    """Return this process's pool for best-effort calls, made on first use (after any fork)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="aa-revoke")
        return _executor


def _retry_after(response: requests.Response) -> int:
    try:
        return max(1, min(int(response.headers.get("Retry-After", "5")), 300))
    except ValueError:
        return 5


def _refuse_unavailable(response: requests.Response) -> requests.Response:
    """Turn 429 and 5xx into AuthServerUnavailable before Authlib reads the body."""
    if response.status_code == 429 or response.status_code >= 500:
        raise AuthServerUnavailable(f"HTTP {response.status_code}", _retry_after(response))
    return response


class OAuthClient:
    """The app's client of one authorization server, with a pooled session per thread."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._local = threading.local()

    def _session(self) -> OAuth2Session:
        session: OAuth2Session | None = getattr(self._local, "session", None)
        if session is None:
            c = self._config
            session = OAuth2Session(
                client_id=c.client_id,
                client_secret=c.client_secret,
                token_endpoint_auth_method="client_secret_post",  # nosec B106
                revocation_endpoint_auth_method="client_secret_post",
                redirect_uri=c.redirect_uri,
                code_challenge_method="S256" if c.use_pkce else None,
                default_timeout=(c.http_connect_timeout, c.http_read_timeout),
            )
            session.trust_env = False
            for hook in ("access_token_response", "refresh_token_response"):
                session.register_compliance_hook(hook, _refuse_unavailable)
            self._local.session = session
        return session

    def authorization_url(self, state: str, code_verifier: str | None, scope: str) -> str:
        """Return the authorize URL for one sign-in attempt."""
        url, _ = self._session().create_authorization_url(
            self._config.authorize_url, state=state, code_verifier=code_verifier, scope=scope
        )
        return str(url)

    def exchange_code(self, code: str, code_verifier: str | None) -> dict[str, Any]:
        """Exchange an authorization code for the user's tokens."""
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        with self._call("authorization_code"):
            token = self._session().fetch_token(
                self._config.token_url,
                grant_type="authorization_code",
                code=code,
                redirect_uri=self._config.redirect_uri,
                **extra,
            )
        return dict(token)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Use a refresh token; the answer may or may not carry a new one."""
        with self._call("refresh_token"):
            token = self._session().refresh_token(
                self._config.token_url, refresh_token=refresh_token
            )
        return dict(token)

    def client_credentials(self) -> dict[str, Any]:
        """Fetch a client token for the APIs a client token is enough for."""
        with self._call("client_credentials"):
            token = self._session().fetch_token(
                self._config.token_url,
                grant_type="client_credentials",
                scope=self._config.client_scopes,
            )
        return dict(token)

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (RFC 7009) and with it the login's grant."""
        if not self._config.revoke_url:
            return
        with self._call("revoke"):
            response = self._session().revoke_token(
                self._config.revoke_url,
                token=refresh_token,
                token_type_hint="refresh_token",  # nosec B106
                # Sign-out waits for this: a slow server must not hold the user for long.
                timeout=(self._config.http_connect_timeout, REVOKE_READ_TIMEOUT),
            )
            _refuse_unavailable(response)
            if response.status_code != 200:
                raise TokenRejected("revocation_failed")

    def revoke_in_background(self, refresh_token: str) -> None:
        """Revoke a grant without making anyone wait for it; failures are only logged."""
        if self._config.revoke_url:
            _background().submit(self._revoke_quietly, refresh_token)

    def _revoke_quietly(self, refresh_token: str) -> None:
        try:
            self.revoke(refresh_token)
        except (TokenRejected, AuthServerUnavailable) as error:
            log.warning("event=revocation_failed reason=%s", type(error).__name__)

    @contextmanager
    def _call(self, kind: str) -> Iterator[None]:
        """Time a call to the authorization server and map its failures to our errors."""
        started = time.perf_counter()
        outcome = "success"
        try:
            yield
        except OAuthError as error:
            outcome = str(error.error)
            raise TokenRejected(outcome) from None
        except AuthServerUnavailable:
            outcome = "unavailable"
            raise
        except (requests.RequestException, ValueError) as error:
            outcome = "unavailable"
            raise AuthServerUnavailable(type(error).__name__) from None
        finally:
            elapsed = time.perf_counter() - started
            TOKEN_ENDPOINT_SECONDS.labels(kind, outcome).observe(elapsed)
