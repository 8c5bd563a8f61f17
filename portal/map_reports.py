"""The user's flight reports as the platform documents them: features of its map data.

Where the platform offers no list of a user's reports (its public API has none), the map data,
read with the user's token, carries their current reports as features with
``detailedCategory: "user:flight_plan_report"`` and ``isOwner: true``. A feature has an id (the
flight id), a name, a shape, and display text; the times, type, reference and description are
read back from that text, and the centre and radius estimated from the shape.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime

from portal.models import FLIGHT_TYPES, FlightReport, MapFeature
from portal.sketch import METRES_PER_DEGREE

REPORT_CATEGORY = "user:flight_plan_report"
WHEN = re.compile(r"(?P<start>\S+) to (?P<end>\S+) \((?P<timezone>[^)]+)\)")
TYPE_CODES = {label: code for code, label in FLIGHT_TYPES.items()}


def own_reports(features: Iterable[MapFeature]) -> list[FlightReport]:
    """Return the signed-in user's reports among map features."""
    return [
        from_feature(f)
        for f in features
        if f.detailed_category == REPORT_CATEGORY and f.is_owner and f.feature_id
    ]


def from_feature(feature: MapFeature) -> FlightReport:
    """Read a report from its feature: what the text and the shape say, and no more."""
    sections = dict(feature.sections)
    start, end, timezone = _when(sections.get("When", ""))
    centre, radius = _circle(feature)
    return FlightReport(
        flight_id=feature.feature_id,
        reference=sections.get("Flight report") or None,
        name=feature.name,
        description=sections.get("Description"),
        flight_type=TYPE_CODES.get(sections.get("Flight type", "")),
        timezone=timezone,
        start=start,
        end=end,
        radius_meters=radius,
        lat=centre[0] if centre else None,
        lng=centre[1] if centre else None,
        status="current",
        source="map",
        estimated=frozenset({"lat", "lng", "radius_meters"} if centre else ()),
        when_text=None if start else sections.get("When"),
    )


def _when(text: str) -> tuple[datetime | None, datetime | None, str | None]:
    match = WHEN.fullmatch(text.strip())
    if not match:
        return None, None, None
    try:
        start, end = (datetime.fromisoformat(match[k]) for k in ("start", "end"))
    except ValueError:
        return None, None, None
    return start, end, match["timezone"]


def _circle(feature: MapFeature) -> tuple[tuple[float, float] | None, int | None]:
    """Estimate a report's centre and radius from its polygon (its outer ring)."""
    try:
        ring = [(float(lng), float(lat)) for lng, lat, *_ in feature.coordinates[0]]
    except (TypeError, ValueError, IndexError):
        return None, None
    if feature.geometry_type != "Polygon" or len(ring) < 3:
        return None, None
    points = ring[:-1] if ring[0] == ring[-1] else ring
    lat = sum(p[1] for p in points) / len(points)
    lng = sum(p[0] for p in points) / len(points)
    scale = math.cos(math.radians(lat))
    radius = sum(math.hypot((p[0] - lng) * scale, p[1] - lat) for p in points) / len(points)
    return (round(lat, 6), round(lng, 6)), round(radius * METRES_PER_DEGREE)
