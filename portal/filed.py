"""The reports a user filed through this app, remembered per Altitude Angel user.

Against a platform with no list of a user's reports, these (with the map data) are how the app
knows them: what was filed, exactly as it was filed, and whether it was completed here. Kept in
a Redis hash per user for a year after the last report, at most MAX_KEPT of them.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from portal.models import FlightReport

MAX_KEPT = 200
KEEP_FOR = 366 * 86400


class FiledReports:
    """One hash per user: flight id -> the report as filed, when, and whether completed here."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    @staticmethod
    def key(user: str) -> str:
        return f"portal:filed:{{{user}}}"

    def remember(self, user: str, flight_id: str, draft: dict[str, Any]) -> None:
        record = {**draft, "filed_at": int(time.time()), "completed": False}
        with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key(user), flight_id, json.dumps(record))
            pipe.expire(self.key(user), KEEP_FOR)
            pipe.execute()
        self._trim(user)

    def completed(self, user: str, flight_id: str) -> None:
        record = self._read(user, flight_id)
        if record is not None:
            record["completed"] = True
            self._redis.hset(self.key(user), flight_id, json.dumps(record))

    def get(self, user: str, flight_id: str) -> FlightReport | None:
        record = self._read(user, flight_id)
        return None if record is None else as_report(flight_id, record)

    def all(self, user: str) -> list[FlightReport]:
        reports = []
        for flight_id, raw in self._redis.hgetall(self.key(user)).items():
            try:
                reports.append(as_report(_text(flight_id), json.loads(raw)))
            except (ValueError, KeyError, TypeError):
                continue  # a damaged entry is left out, not shown half
        return reports

    def _read(self, user: str, flight_id: str) -> dict[str, Any] | None:
        raw = self._redis.hget(self.key(user), flight_id)
        try:
            record = json.loads(raw) if raw else None
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def _trim(self, user: str) -> None:
        if self._redis.hlen(self.key(user)) <= MAX_KEPT:
            return
        filed = sorted(self.all(user), key=lambda r: r.start or datetime.min)
        oldest = [r.flight_id for r in filed[: len(filed) - MAX_KEPT]]
        if oldest:
            self._redis.hdel(self.key(user), *oldest)


def as_report(flight_id: str, record: dict[str, Any]) -> FlightReport:
    """Return a report as it was filed here."""
    return FlightReport(
        flight_id=flight_id,
        reference=None,
        name=str(record["name"]),
        description=str(record.get("description") or ""),
        flight_type=str(record["flight_type"]),
        timezone=str(record["timezone"]),
        start=datetime.fromisoformat(str(record["start"])),
        end=datetime.fromisoformat(str(record["end"])),
        radius_meters=int(record["radius_meters"]),
        lat=float(record["loc"]["lat"]),
        lng=float(record["loc"]["lng"]),
        status="completed" if record.get("completed") else "not on the map",
        source="filed here",
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
