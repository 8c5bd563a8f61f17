"""Calls to the authorization server, made with Authlib's OAuth 2.0 client.

Every failure becomes one of two errors: the server said no (``TokenRejected``), or it could
not answer now (``AuthServerUnavailable``), so callers never see a requests exception.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.client import DEFAULT_HEADERS

from flask_altitudeangel import _messages
from flask_altitudeangel._client_key import ClientAssertion
from flask_altitudeangel._config import Config
from flask_altitudeangel._dpop import DPoPKey, ServerHints
from flask_altitudeangel._metrics import TOKEN_ENDPOINT_SECONDS
from flask_altitudeangel._profile import bound_tokens_only
from flask_altitudeangel.errors import AuthServerUnavailable, TokenRejected, retry_after_seconds
from flask_altitudeangel.records import ProtocolMessage

REVOKE_READ_TIMEOUT = 3.0
PROOF_ERRORS = ("use_dpop_nonce", "invalid_dpop_proof")
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


def _not_offered() -> None:
    # The real platform documents no revocation endpoint: nothing failed, there is nothing to do.
    log.info("event=revocation_skipped reason=not_offered")


def _refuse_unavailable(response: requests.Response) -> requests.Response:
    """Turn 429 and 5xx into AuthServerUnavailable before Authlib reads the body."""
    if response.status_code == 429 or response.status_code >= 500:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        raise AuthServerUnavailable(f"HTTP {response.status_code}", wait)
    return response


class OAuthClient:
    """The app's client of one authorization server, with a pooled session per thread.

    Client authentication is ``client_secret_post`` or ``private_key_jwt`` (short-lived
    assertions, see ``ClientAssertion``); token requests carry a DPoP proof when a key is given,
    and are sent once more with the server's nonce when it asks for one. Each request that got
    an answer is announced with it (``protocol_message``, with ``sender`` as the sender): a
    request that got none ends in AuthServerUnavailable instead.
    """

    def __init__(self, config: Config | Callable[[], Config], sender: Any = None) -> None:
        # A callable gives the config with the server's endpoints, or raises
        # AuthServerUnavailable while they are not known (``Server.ready``).
        self._source = config if callable(config) else lambda: config
        self._sender = sender
        self._local = threading.local()
        self.servers = ServerHints()

    @property
    def _config(self) -> Config:
        return self._source()

    @property
    def binds_tokens(self) -> bool:
        """Tell whether tokens are bound to a key (DPoP), as the settings and metadata say."""
        return self._config.dpop

    def _session(self) -> OAuth2Session:
        session: OAuth2Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._new_session()
            self._local.session = session
        return session

    def _new_session(self) -> OAuth2Session:
        c = self._config
        session = OAuth2Session(
            client_id=c.client_id,
            client_secret=c.client_secret,
            token_endpoint_auth_method=c.client_auth,
            revocation_endpoint_auth_method=c.client_auth,
            redirect_uri=c.redirect_uri,
            code_challenge_method="S256" if c.use_pkce else None,
            default_timeout=(c.http_connect_timeout, c.http_read_timeout),
        )
        if c.client_key is not None:
            audience = str(c.metadata.get("issuer") or "") or c.token_url
            session.register_client_auth_method(ClientAssertion(c.client_key, audience))
        session.trust_env = False
        session.hooks["response"].append(self._announce)
        for hook in ("access_token_response", "refresh_token_response"):
            session.register_compliance_hook(hook, self._received)
        return session

    def _received(self, response: requests.Response) -> requests.Response:
        """Note the server's DPoP nonce, then refuse 429 and 5xx."""
        self.servers.note(response.url, response.headers)
        return _refuse_unavailable(response)

    def _announce(self, response: requests.Response, **_: Any) -> None:
        """Announce a request to the authorization server and its answer, as they went."""
        c, request = self._config, response.request
        endpoint = _messages.without_query(str(request.url))
        kind = {c.par_url: "pushed_authorization", c.revoke_url: "revocation"}.get(endpoint)
        details = _messages.back_channel_request(request)
        grant = dict(details).get("grant_type", "")
        seconds = response.elapsed.total_seconds()
        received = ProtocolMessage(
            f"{kind or 'token'}_response",
            "received",
            endpoint,
            _messages.back_channel_response(response),
            operation=grant,
            status=str(response.status_code),
            seconds=seconds,
        )
        sent = ProtocolMessage(
            f"{kind or 'token'}_request", "sent", endpoint, details, received.at - seconds, grant
        )
        _messages.announce(self._sender, sent)
        _messages.announce(self._sender, received)

    def authorization_url(
        self, state: str, code_verifier: str | None, scope: str, nonce: str = ""
    ) -> str:
        """Return the authorize URL for one attempt, pushed first when the server takes it."""
        extra = {"nonce": nonce} if nonce else {}
        url, _ = self._session().create_authorization_url(
            self._config.authorize_url,
            state=state,
            code_verifier=code_verifier,
            scope=scope,
            **extra,
        )
        if not self._config.par_url:
            return str(url)
        return self._pushed(dict(parse_qsl(urlsplit(str(url)).query)))

    def _pushed(self, params: dict[str, str]) -> str:
        """Push the request's parameters (RFC 9126); the browser carries only a reference."""
        c, session = self._config, self._session()
        if c.client_auth == "client_secret_post":
            params.pop("client_id", None)  # the client authentication puts it in the body
        with self._call("pushed_authorization"):
            answer = session.post(
                c.par_url,
                data=params,
                auth=session.client_auth(c.client_auth),
                headers={"Accept": "application/json"},
                timeout=(c.http_connect_timeout, c.http_read_timeout),
            )
            _refuse_unavailable(answer)
            document = answer.json()
            if answer.status_code != 201 or "request_uri" not in document:
                error = str(document.get("error", "invalid_request"))
                raise TokenRejected(error, document.get("error_description"))
        query = urlencode({"client_id": c.client_id, "request_uri": str(document["request_uri"])})
        return f"{c.authorize_url}?{query}"

    def exchange_code(
        self, code: str, code_verifier: str | None, dpop: DPoPKey | None
    ) -> dict[str, Any]:
        """Exchange an authorization code for the user's tokens."""
        extra = {"code_verifier": code_verifier} if code_verifier else {}

        def send(headers: dict[str, str]) -> Any:
            return self._session().fetch_token(
                self._config.token_url,
                grant_type="authorization_code",
                code=code,
                redirect_uri=self._config.redirect_uri,
                headers=headers,
                **extra,
            )

        return self._token_request("authorization_code", dpop, send)

    def refresh(self, refresh_token: str, dpop: DPoPKey | None) -> dict[str, Any]:
        """Use a refresh token; the answer may or may not carry a new one."""

        def send(headers: dict[str, str]) -> Any:
            return self._session().refresh_token(
                self._config.token_url, refresh_token=refresh_token, headers=headers
            )

        return self._token_request("refresh_token", dpop, send)

    def client_credentials(self, dpop: DPoPKey | None) -> dict[str, Any]:
        """Fetch a client token for the APIs a client token is enough for."""

        def send(headers: dict[str, str]) -> Any:
            return self._session().fetch_token(
                self._config.token_url,
                grant_type="client_credentials",
                scope=self._config.client_scopes,
                headers=headers,
            )

        return self._token_request("client_credentials", dpop, send)

    def _token_request(self, kind: str, dpop: DPoPKey | None, send: Any) -> dict[str, Any]:
        """Send a token request with a fresh proof, once more if the server wants its nonce."""
        url = self._config.token_url
        for attempt in (1, 2):
            headers = dict(DEFAULT_HEADERS)
            if dpop is not None:
                headers["DPoP"] = dpop.proof("POST", url, None, self.servers)
            try:
                with self._call(kind):
                    token = dict(send(headers))
            except TokenRejected as error:
                if error.error in PROOF_ERRORS and dpop is not None and attempt == 1:
                    continue  # the answer carried the nonce, or the clock, to use (RFC 9449 §8)
                raise
            return self._bound_if_required(token)
        raise AssertionError("unreachable")  # pragma: no cover

    def _bound_if_required(self, token: dict[str, Any]) -> dict[str, Any]:
        """Refuse a token that is not DPoP-bound when the profile allows no other (FAPI 2.0).

        Its grant is revoked: nothing of an answer the app will not use is left live.
        """
        kind = str(token.get("token_type", ""))
        if kind.lower() == "dpop" or not bound_tokens_only(self._config):
            return token
        if token.get("refresh_token"):
            self.revoke_in_background(str(token["refresh_token"]))
        raise TokenRejected("unbound_token", f"a {kind or 'typeless'} token, not a DPoP-bound one")

    def revoke(self, refresh_token: str) -> None:
        """Revoke a refresh token (RFC 7009) and with it the login's grant, where offered."""
        if not self._config.revoke_url:
            _not_offered()
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
        if not self._config.revoke_url:
            _not_offered()
            return
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
            raise TokenRejected(outcome, error.description) from None
        except AuthServerUnavailable:
            outcome = "unavailable"
            raise
        except (requests.RequestException, ValueError) as error:
            outcome = "unavailable"
            raise AuthServerUnavailable(type(error).__name__) from None
        finally:
            elapsed = time.perf_counter() - started
            TOKEN_ENDPOINT_SECONDS.labels(kind, outcome).observe(elapsed)
