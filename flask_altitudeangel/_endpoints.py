"""The authorization server as this process knows it: the endpoints the settings give, completed
by the server's metadata (RFC 8414, else OpenID Connect Discovery) once it has been read.

Nothing is read at start-up, so that an app boots while its authorization server is down. The
metadata is read when first needed (a sign-in, a token request, a readiness check) and, until it
is known, again when next needed after a backoff: 1 s after the first failure, doubling each
time up to 60 s. Each process (each gunicorn worker) reads it for itself. Settings that name
the endpoints a sign-in needs (``AA_AUTHORIZE_URL`` and ``AA_TOKEN_URL``) need no metadata.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from typing import Any

from flask_altitudeangel import _profile
from flask_altitudeangel._config import Config, load_config
from flask_altitudeangel._discovery import (
    ENDPOINTS,
    MetadataUnavailable,
    fetch_metadata,
    settings_from,
)
from flask_altitudeangel.errors import AuthServerUnavailable, ConfigError

log = logging.getLogger("flask_altitudeangel")
FIRST_WAIT = 1.0  # seconds after the first failed read before the metadata is asked again
LONGEST_WAIT = 60.0  # the wait doubles after each failure, up to this
NOT_READ = "the authorization server's metadata has not been read yet"


def wait_after(failures: int) -> float:
    """Return how long to wait before the next read, after ``failures`` failed in a row."""
    return min(LONGEST_WAIT, FIRST_WAIT * 2 ** max(0, failures - 1))


class Server:
    """The settings and, once read, the server's metadata: one per app and process."""

    def __init__(
        self,
        settings: Config,
        given: Mapping[str, Any],
        names: Mapping[str, str] | None,
        url_prefix: str,
        discovery: bool,
    ) -> None:
        self.settings = settings  # as read and checked at start-up, before any network
        self._given = dict(given)
        self._names = dict(names or {})
        self._prefix = url_prefix
        self._known: Config | None = None if discovery else settings
        self._lock = threading.Lock()
        self._failures = 0
        self._next_read = 0.0  # time.monotonic() before which the metadata is not asked again
        self._problem = NOT_READ

    @property
    def config(self) -> Config:
        """Return the settings, with the server's endpoints once known; never waits."""
        return self._known or self.settings

    def ready(self) -> Config:
        """Return the settings with the server's endpoints, reading its metadata when due.

        Raises AuthServerUnavailable (a 503 with Retry-After) while they are not known.
        """
        known = self._known
        if known is None:
            self._read_when_due()
            known = self._known
        if known is None:
            raise AuthServerUnavailable(self._problem, self._retry_after())
        return known

    def problems(self) -> list[str]:
        """Say why sign-in cannot work now, reading the metadata when due; [] once it can."""
        try:
            self.ready()
        except AuthServerUnavailable:
            return [f"{self._problem} (asked again in {self._retry_after()} s at the earliest)"]
        return []

    def _retry_after(self) -> int:
        return max(1, math.ceil(self._next_read - time.monotonic()))

    def _read_when_due(self) -> None:
        settings = self.settings
        timeout = settings.http_connect_timeout + settings.http_read_timeout
        # One read at a time: the others wait for its outcome rather than ask again.
        if not self._lock.acquire(timeout=timeout):
            return
        try:
            if self._known is None and time.monotonic() >= self._next_read:
                self._read(timeout)
        finally:
            self._lock.release()

    def _read(self, timeout: float) -> None:
        try:
            metadata = fetch_metadata(self.settings.auth_url, timeout)  # {} for the platform
            _profile.check_server(self.settings, metadata)
            config = self._with(metadata)
            _profile.check(config, self._names)
        except (MetadataUnavailable, ConfigError) as problem:
            self._failed(problem)
            return
        self._known = config
        log.info("event=metadata_known failures_before=%d", self._failures)

    def _with(self, metadata: Mapping[str, Any]) -> Config:
        """Return the settings completed by ``metadata``: what it names, checked as settings are."""
        found = settings_from(metadata, self._given)
        from_metadata = {key: field for field, key in ENDPOINTS.items() if key in found}
        names = {key: f"the metadata's {field}" for key, field in from_metadata.items()}
        values = {**found, **self._given}
        return load_config(values, {**self._names, **names}, self._prefix, metadata)

    def _failed(self, problem: Exception) -> None:
        self._failures += 1
        wait = wait_after(self._failures)
        self._next_read = time.monotonic() + wait
        self._problem = str(problem)
        # A server that does not answer may come back; metadata that cannot be used needs a person.
        level = logging.WARNING if isinstance(problem, MetadataUnavailable) else logging.ERROR
        log.log(level, "event=metadata_unavailable problem=%r retry_in=%d", str(problem), wait)
