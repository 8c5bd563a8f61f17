"""Small geometry for map data: circles as polygons and bounding-box overlap."""

from __future__ import annotations

import math
from typing import Any

EARTH_RADIUS_M = 6_371_000.0

# (south, west, north, east) in degrees
Box = tuple[float, float, float, float]


def circle(lat: float, lng: float, radius_m: float, points: int = 32) -> dict[str, Any]:
    """Return a GeoJSON Polygon approximating a circle on the ground."""
    ring = []
    for step in range(points + 1):
        angle = 2 * math.pi * (step % points) / points
        d_lat = math.degrees(radius_m * math.cos(angle) / EARTH_RADIUS_M)
        d_lng = math.degrees(
            radius_m * math.sin(angle) / (EARTH_RADIUS_M * math.cos(math.radians(lat)))
        )
        ring.append([round(lng + d_lng, 6), round(lat + d_lat, 6)])
    return {"type": "Polygon", "coordinates": [ring]}


def _positions(geometry: dict[str, Any]) -> list[list[float]]:
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return [coordinates]
    if kind == "LineString":
        return list(coordinates)
    return [position for ring in coordinates for position in ring]


def bounds(geometry: dict[str, Any]) -> Box:
    """Return the bounding box of a Point, LineString or Polygon."""
    positions = _positions(geometry)
    lngs = [p[0] for p in positions]
    lats = [p[1] for p in positions]
    return min(lats), min(lngs), max(lats), max(lngs)


def overlaps(a: Box, b: Box) -> bool:
    """Return whether two boxes share any point."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]
