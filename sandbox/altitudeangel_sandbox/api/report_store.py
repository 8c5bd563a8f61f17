"""Flight reports: the one owner of their storage, status and paging."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import redis

from altitudeangel_sandbox.api.report_input import to_utc
from altitudeangel_sandbox.store import key

REFERENCE_BASE = 100000


def _report_key(flight_id: str) -> str:
    return key("flight-report", flight_id)


def _index_key(username: str) -> str:
    return key("flight-reports", username)


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_of(report: dict[str, Any], completed: bool, now: datetime) -> str:
    """Return scheduled, active, ended or completed, comparing now with the local times."""
    if completed:
        return "completed"
    zone = ZoneInfo(report["timezone"])
    if now < to_utc(datetime.fromisoformat(report["start"]), zone):
        return "scheduled"
    if now < to_utc(datetime.fromisoformat(report["end"]), zone):
        return "active"
    return "ended"


class FlightReports:
    """Create, list, read and complete each user's flight reports."""

    def __init__(self, db: redis.Redis):
        self._db = db

    def create(
        self, username: str, fields: dict[str, Any], flight_id: str | None = None
    ) -> dict[str, Any]:
        """Store a validated report for ``username`` and return it."""
        sequence = int(self._db.incr(key("flight-report-sequence")))
        report = {
            "flightId": flight_id or str(uuid.uuid4()),
            "reference": f"AA-FR-{REFERENCE_BASE + sequence}",
            **fields,
            "created_at": _utc_text(datetime.now(UTC)),
        }
        start = to_utc(datetime.fromisoformat(fields["start"]), ZoneInfo(fields["timezone"]))
        with self._db.pipeline(transaction=True) as pipe:
            pipe.hset(
                _report_key(report["flightId"]),
                mapping={"owner": username, "report": json.dumps(report)},
            )
            pipe.zadd(_index_key(username), {report["flightId"]: start.timestamp()})
            pipe.execute()
        return self._present(report, completed=False)

    def exists(self, flight_id: str) -> bool:
        """Return whether a report with this id exists, whoever owns it."""
        return bool(self._db.exists(_report_key(flight_id)))

    def get(self, username: str, flight_id: str) -> dict[str, Any] | None:
        """Return the user's report, or nothing if it is unknown or someone else's."""
        owner, report, completed = self._db.hmget(
            _report_key(flight_id), ["owner", "report", "completed_at"]
        )
        if owner != username or report is None:
            return None
        return self._present(json.loads(report), completed=completed is not None)

    def page(self, username: str, page: int, per_page: int) -> tuple[list[dict[str, Any]], int]:
        """Return one page of the user's reports, newest start first, and the total."""
        offset = (page - 1) * per_page
        with self._db.pipeline(transaction=False) as pipe:
            pipe.zrevrange(_index_key(username), offset, offset + per_page - 1)
            pipe.zcard(_index_key(username))
            ids, total = pipe.execute()
        found = (self.get(username, flight_id) for flight_id in ids)
        return [report for report in found if report], int(total)

    def all(self, username: str) -> list[dict[str, Any]]:
        """Return every report of the user."""
        ids = self._db.zrevrange(_index_key(username), 0, -1)
        return [report for report in (self.get(username, str(i)) for i in ids) if report]

    def complete(self, username: str, flight_id: str) -> dict[str, Any] | None:
        """Complete the report; return it, or None if it was already completed."""
        # HSETNX: of two concurrent completions exactly one sets the field.
        if not self._db.hsetnx(
            _report_key(flight_id), "completed_at", _utc_text(datetime.now(UTC))
        ):
            return None
        return self.get(username, flight_id)

    def _present(self, report: dict[str, Any], completed: bool) -> dict[str, Any]:
        return {**report, "status": status_of(report, completed, datetime.now(UTC))}
