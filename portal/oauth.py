"""Calls to the authorization server, made with Authlib's OAuth 2.0 client.

Every failure becomes one of two domain errors: the server said no (``TokenRejected``), or it
could not answer now (``AuthServerUnavailable``), so callers never see a requests exception.
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

from portal import metrics
from portal.settings import Settings

REVOKE_READ_TIMEOUT = 3.0
log = logging.getLogger(__name__)
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _background() -> ThreadPoolExecutor:
    """Return this process's pool for best-effort calls, made on first use (after any fork)."""
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="portal-revoke")
        return _executor


class AuthServerError(Exception):
    """The authorization server did not give the app what it asked for."""


class TokenRejected(AuthServerError):
    """The server answered with an OAuth error such as ``invalid_grant``."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.description = description or ""


class AuthServerUnavailable(AuthServerError):
    """The server is down, slow, overloaded or answered garbage: try again later."""

    def __init__(self, reason: str, retry_after: int = 5) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


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

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._local = threading.local()

    def _session(self) -> OAuth2Session:
        session: OAuth2Session | None = getattr(self._local, "session", None)
        if session is None:
            s = self._settings
            session = OAuth2Session(
                client_id=s.aa_client_id,
                client_secret=s.aa_client_secret,
                token_endpoint_auth_method="client_secret_post",  # nosec B106
                revocation_endpoint_auth_method="client_secret_post",
                redirect_uri=s.aa_redirect_uri,
                code_challenge_method="S256" if s.aa_use_pkce else None,
                default_timeout=(s.http_connect_timeout, s.http_read_timeout),
            )
            session.trust_env = False
            for hook in ("access_token_response", "refresh_token_response"):
                session.register_compliance_hook(hook, _refuse_unavailable)
            self._local.session = session
        return session

    def authorization_url(self, state: str, code_verifier: str | None, scope: str) -> str:
        """Return the authorize URL for one login transaction."""
        url, _ = self._session().create_authorization_url(
            self._settings.aa_authorize_url,
            state=state,
            code_verifier=code_verifier,
            scope=scope,
        )
        return str(url)

    def exchange_code(self, code: str, code_verifier: str | None) -> dict[str, Any]:
        """Exchange an authorization code for the user's tokens."""
        extra = {"code_verifier": code_verifier} if code_verifier else {}
        with self._call("authorization_code"):
            token = self._session().fetch_token(
                self._settings.aa_token_url,
                grant_type="authorization_code",
                code=code,
                redirect_uri=self._settings.aa_redirect_uri,
                **extra,
            )
        return dict(token)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        """Use a refresh token; the answer may or may not carry a new one."""
        with self._call("refresh_token"):
            token = self._session().refresh_token(
                self._settings.aa_token_url, refresh_token=refresh_token
            )
        return dict(token)

    def client_credentials(self) -> dict[str, Any]:
        """Fetch a client token for the APIs a client token is enough for."""
        with self._call("client_credentials"):
            token = self._session().fetch_token(
                self._settings.aa_token_url,
                grant_type="client_credentials",
                scope=self._settings.aa_client_scopes,
            )
        return dict(token)

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (RFC 7009) and with it the login's grant."""
        if not self._settings.aa_revoke_url:
            return
        with self._call("revoke"):
            response = self._session().revoke_token(
                self._settings.aa_revoke_url,
                token=refresh_token,
                token_type_hint="refresh_token",  # nosec B106
                # Sign-out waits for this: a slow server must not hold the user for long.
                timeout=(self._settings.http_connect_timeout, REVOKE_READ_TIMEOUT),
            )
            _refuse_unavailable(response)
            if response.status_code != 200:
                raise TokenRejected("revocation_failed", f"HTTP {response.status_code}")

    def revoke_in_background(self, refresh_token: str) -> None:
        """Revoke a grant without making anyone wait for it; failures are only logged."""
        if self._settings.aa_revoke_url:
            _background().submit(self._revoke_quietly, refresh_token)

    def _revoke_quietly(self, refresh_token: str) -> None:
        try:
            self.revoke(refresh_token)
        except AuthServerError as error:
            log.warning("event=revocation_failed reason=%s", type(error).__name__)

    @contextmanager
    def _call(self, kind: str) -> Iterator[None]:
        """Time a call to the token endpoint and map its failures to domain errors."""
        started = time.perf_counter()
        outcome = "success"
        try:
            yield
        except OAuthError as error:
            outcome = str(error.error)
            raise TokenRejected(outcome, error.description) from None
        except AuthServerUnavailable:
            outcome = "unavailable"
            raise
        except (requests.RequestException, ValueError) as error:
            outcome = "unavailable"
            raise AuthServerUnavailable(type(error).__name__) from None
        finally:
            metrics.TOKEN_ENDPOINT_SECONDS.labels(kind, outcome).observe(
                time.perf_counter() - started
            )
