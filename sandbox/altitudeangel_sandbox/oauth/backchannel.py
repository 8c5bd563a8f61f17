"""Back-channel logout (OpenID Connect Back-Channel Logout 1.0): tell clients a session ended.

When a sandbox session ends, each client that got an ID token in it is sent a logout token at
every back-channel logout URI it has (§2.5): a form POST, each in a thread of its own, with a
short timeout. The sign-out page waits for them for at most ``WAIT`` seconds, so that a client
that answers at once has ended its login before the browser comes back to it; one that is slower
finishes in the background. Every failure is logged (never the token) and counted.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import requests

from altitudeangel_sandbox.metrics import Metrics
from altitudeangel_sandbox.oauth.id_tokens import IdTokens
from altitudeangel_sandbox.oauth.registry import Registry

TIMEOUT = (2.0, 3.0)  # seconds to connect, and to wait for the answer, per delivery
WAIT = 3.0  # seconds the sign-out page waits for every delivery at most
log = logging.getLogger("altitudeangel_sandbox.backchannel")


@dataclass(frozen=True)
class Delivery:
    """One logout token for one client at one of its back-channel logout URIs."""

    client_id: str
    uri: str
    logout_token: str


class BackChannelLogout:
    """Send logout tokens to the clients of an ended session."""

    def __init__(self, registry: Registry, id_tokens: IdTokens, metrics: Metrics):
        self._registry = registry
        self._id_tokens = id_tokens
        self._outcomes = metrics.backchannel_logouts

    def deliveries(self, client_ids: list[str], subject: str, sid: str) -> list[Delivery]:
        """Return a fresh logout token for each URI of each client (its own ``jti`` each)."""
        found = []
        for client_id in client_ids:
            client = self._registry.client(client_id)
            for uri in client.all_backchannel_logout_uris() if client else []:
                token = self._id_tokens.logout_token(client_id, subject, sid)
                found.append(Delivery(client_id, uri, token))
        return found

    def notify(self, client_ids: list[str], subject: str, sid: str) -> None:
        """Tell every client of session ``sid`` it ended; wait for them at most ``WAIT`` seconds."""
        threads = [
            threading.Thread(target=self._deliver, args=(delivery,), daemon=True)
            for delivery in self.deliveries(client_ids, subject, sid)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + WAIT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _deliver(self, delivery: Delivery) -> None:
        """POST one logout token; log and count what came of it."""
        try:
            with requests.Session() as http:
                http.trust_env = False  # the client is reached directly, never through a proxy
                answer = http.post(
                    delivery.uri,
                    data={"logout_token": delivery.logout_token},
                    timeout=TIMEOUT,
                    allow_redirects=False,
                )
        except requests.RequestException as error:
            self._failed(delivery, type(error).__name__)
            return
        # §2.8: 200 (or 204) is success; anything else means the client could not log out.
        if answer.status_code not in (200, 204):
            self._failed(delivery, f"HTTP {answer.status_code}")
            return
        self._outcomes.labels("delivered").inc()
        log.info("event=backchannel_logout client=%s uri=%s", delivery.client_id, delivery.uri)

    def _failed(self, delivery: Delivery, reason: str) -> None:
        self._outcomes.labels("failed").inc()
        log.warning(
            "event=backchannel_logout_failed client=%s uri=%s reason=%s",
            delivery.client_id,
            delivery.uri,
            reason,
        )
