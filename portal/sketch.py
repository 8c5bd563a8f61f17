"""An SVG sketch of a flight report's area and the map features around it, drawn server-side."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from portal.models import BoundingBox, FlightReport, MapFeature

SIZE = 320
METRES_PER_DEGREE = 111_320


@dataclass(frozen=True)
class Shape:
    """One thing to draw: a ``circle`` (cx, cy, r) or a ``path`` (d)."""

    kind: str
    css_class: str
    label: str
    cx: float = 0
    cy: float = 0
    r: float = 0
    d: str = ""


def surroundings(report: FlightReport) -> BoundingBox | None:
    """Return the box drawn around a report (three times its radius, at least 2 km across), or
    None when where it is is not known."""
    if report.lat is None or report.lng is None:
        return None
    half = max((report.radius_meters or 0) * 3, 1000) / METRES_PER_DEGREE
    half_lng = half / max(math.cos(math.radians(report.lat)), 0.01)
    return BoundingBox(
        north=round(min(report.lat + half, 90), 6),
        east=round(min(report.lng + half_lng, 180), 6),
        south=round(max(report.lat - half, -90), 6),
        west=round(max(report.lng - half_lng, -180), 6),
    )


def draw(report: FlightReport, box: BoundingBox, features: Iterable[MapFeature]) -> list[Shape]:
    """Project the report and the features into a SIZE × SIZE sketch of ``box``."""
    if report.lat is None or report.lng is None:
        return []

    def point(lng: float, lat: float) -> tuple[float, float]:
        x = (lng - box.west) / (box.east - box.west) * SIZE
        y = (box.north - lat) / (box.north - box.south) * SIZE
        return round(x, 1), round(y, 1)

    shapes = [_feature_shape(f, point) for f in features if not f.is_owner]
    cx, cy = point(report.lng, report.lat)
    radius = (report.radius_meters or 0) / METRES_PER_DEGREE / (box.north - box.south) * SIZE
    shapes.append(Shape("circle", "sketch-report", report.name, cx, cy, max(radius, 2)))
    return [s for s in shapes if s is not None]


Projection = Callable[[float, float], tuple[float, float]]


def _feature_shape(feature: MapFeature, project: Projection) -> Shape | None:
    css = "sketch-air" if feature.category == "airspace" else "sketch-ground"
    try:
        if feature.geometry_type == "Point":
            x, y = project(*feature.coordinates[:2])
            return Shape("circle", css, feature.name, x, y, 4)
        if feature.geometry_type == "Polygon":
            ring = [project(*c[:2]) for c in feature.coordinates[0]]
            d = "M" + " L".join(f"{x},{y}" for x, y in ring) + " Z"
            return Shape("path", css, feature.name, d=d)
    except (TypeError, IndexError, ValueError):
        return None
    return None
