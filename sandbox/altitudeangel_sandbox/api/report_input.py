"""Validate a flight report as the client sends it; collect every field's problem at once."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from altitudeangel_sandbox.errors import InvalidInput

MAX_DURATION = timedelta(hours=24)


def _text(value: Any, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not low <= len(value.strip()) or len(value) > high:
        raise ValueError(f"must be {low} to {high} characters")
    return value.strip()


def _timezone(value: Any) -> ZoneInfo:
    if not isinstance(value, str) or not value or len(value) > 64:
        raise ValueError("must be an IANA time zone name, e.g. Europe/London")
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("is not a known IANA time zone") from None


def _local_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be a local ISO 8601 time, e.g. 2026-12-01T10:00:00")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a local ISO 8601 time, e.g. 2026-12-01T10:00:00") from None
    if parsed.tzinfo is not None:
        raise ValueError("must be a local time without an offset; the timezone field places it")
    return parsed


def _number(value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError("must be a number")
    if not low <= value <= high:
        raise ValueError(f"must be between {low:g} and {high:g}")
    return float(value)


def _radius(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("must be a whole number of metres")
    if not 1 <= value <= 10000:
        raise ValueError("must be between 1 and 10000")
    return value


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """Return the instant a local wall-clock time in ``zone`` stands for."""
    return local.replace(tzinfo=zone).astimezone(UTC)


def _check(fields: dict[str, str], name: str, parse: Any, *args: Any) -> Any:
    try:
        return parse(*args)
    except ValueError as problem:
        fields[name] = str(problem)
        return None


def _check_times(fields: dict[str, str], zone: ZoneInfo | None, start: Any, end: Any) -> None:
    if zone is None or start is None or end is None:
        return
    for name, local in (("start", start), ("end", end)):
        if to_utc(local, zone).astimezone(zone).replace(tzinfo=None) != local:
            fields[name] = "does not exist in that time zone (clocks skip it)"
    if to_utc(end, zone) <= to_utc(start, zone):
        fields.setdefault("end", "must be after start")
    elif to_utc(end, zone) - to_utc(start, zone) > MAX_DURATION:
        fields.setdefault("end", "must be at most 24 hours after start")


def parse_report(body: Any) -> dict[str, Any]:
    """Return the report's fields normalised, or raise ``InvalidInput`` naming each problem."""
    if not isinstance(body, dict):
        raise InvalidInput({"body": "must be a JSON object"})
    fields: dict[str, str] = {}
    name = _check(fields, "name", _text, body.get("name"), 1, 100)
    description = _check(fields, "description", _text, body.get("description", ""), 0, 500)
    if body.get("flight_type") not in ("com", "rec"):
        fields["flight_type"] = "must be 'com' (commercial) or 'rec' (recreational)"
    zone = _check(fields, "timezone", _timezone, body.get("timezone"))
    start = _check(fields, "start", _local_time, body.get("start"))
    end = _check(fields, "end", _local_time, body.get("end"))
    _check_times(fields, zone, start, end)
    radius = _check(fields, "radius_meters", _radius, body.get("radius_meters"))
    loc = body.get("loc")
    lat = lng = None
    if not isinstance(loc, dict):
        fields["loc"] = "must be an object with lat and lng"
    else:
        lat = _check(fields, "loc.lat", _number, loc.get("lat"), -90, 90)
        lng = _check(fields, "loc.lng", _number, loc.get("lng"), -180, 180)
    if fields:
        raise InvalidInput(fields)
    return {
        "name": name,
        "description": description,
        "flight_type": body["flight_type"],
        "timezone": body["timezone"],
        "start": start.isoformat(timespec="seconds"),
        "end": end.isoformat(timespec="seconds"),
        "radius_meters": radius,
        "loc": {"lat": lat, "lng": lng},
    }
