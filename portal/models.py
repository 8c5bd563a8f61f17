"""The platform's domain objects as the app uses them, parsed from API responses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FLIGHT_TYPES = {"com": "Commercial", "rec": "Recreational"}


@dataclass(frozen=True)
class BoundingBox:
    north: float
    east: float
    south: float
    west: float


@dataclass(frozen=True)
class FlightReport:
    """One flight report; ``start`` and ``end`` are local times in ``timezone``.

    A field is None where the platform did not say it: a report read from the map data carries
    some fields only as display text, and its centre and radius only as a shape (then they are
    estimates, named in ``estimated``).
    """

    flight_id: str
    reference: str | None
    name: str
    description: str | None
    flight_type: str | None
    timezone: str | None
    start: datetime | None
    end: datetime | None
    radius_meters: int | None
    lat: float | None
    lng: float | None
    status: str  # scheduled, active, completed; "current" on the map; "not on the map"
    source: str = "api"  # "api" (the reports API), "map" (map data) or "filed here"
    estimated: frozenset[str] = frozenset()
    when_text: str | None = None  # the platform's own words, when the times could not be read

    @property
    def type_label(self) -> str | None:
        return FLIGHT_TYPES.get(self.flight_type or "", self.flight_type)

    @property
    def can_complete(self) -> bool:
        return self.status in ("scheduled", "active", "current")

    @property
    def title(self) -> str:
        return self.reference or self.name

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> FlightReport:
        return cls(
            flight_id=str(data["flightId"]),
            reference=str(data.get("reference", data["flightId"])),
            name=str(data["name"]),
            description=str(data.get("description") or ""),
            flight_type=str(data["flight_type"]),
            timezone=str(data["timezone"]),
            start=datetime.fromisoformat(str(data["start"])),
            end=datetime.fromisoformat(str(data["end"])),
            radius_meters=int(data["radius_meters"]),
            lat=float(data["loc"]["lat"]),
            lng=float(data["loc"]["lng"]),
            status=str(data.get("status", "scheduled")),
        )


@dataclass(frozen=True)
class ReportPage:
    """One page of the signed-in user's reports, newest first."""

    items: list[FlightReport]
    page: int
    per_page: int
    total: int
    source: str = "api"  # "api": the platform's list; "map": map data and reports filed here

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ReportPage:
        return cls(
            items=[FlightReport.from_api(item) for item in data["items"]],
            page=int(data["page"]),
            per_page=int(data["per_page"]),
            total=int(data["total"]),
        )


@dataclass(frozen=True)
class UserProfile:
    """The signed-in user's profile from /userProfile."""

    aa_id: str
    email: str
    first_name: str
    last_name: str
    country: str
    is_pro: bool
    unit_of_measure: str

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> UserProfile:
        return cls(
            aa_id=str(data["aa_id"]),
            email=str(data.get("email", "")),
            first_name=str(data.get("first_name", "")),
            last_name=str(data.get("last_name", "")),
            country=str(data.get("country", "")),
            is_pro=bool(data.get("is_pro", False)),
            unit_of_measure=str(data.get("unit_of_measure", "Metric")),
        )


@dataclass(frozen=True)
class MapFeature:
    """A map data feature reduced to what the report sketch draws."""

    name: str
    category: str
    geometry_type: str
    coordinates: Any
    is_owner: bool
    feature_id: str = ""
    detailed_category: str = ""
    sections: tuple[tuple[str, str], ...] = ()  # the feature's display sections: title, text

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> MapFeature:
        properties = data.get("properties") or {}
        geometry = data.get("geometry") or {}
        return cls(
            name=str(properties.get("name", "")),
            category=str(properties.get("category", "")),
            geometry_type=str(geometry.get("type", "")),
            coordinates=geometry.get("coordinates"),
            is_owner=bool(properties.get("isOwner", False)),
            feature_id=str(data.get("id") or ""),
            detailed_category=str(properties.get("detailedCategory", "")),
            sections=_sections(properties.get("display")),
        )


def _sections(display: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(display, dict) or not isinstance(display.get("sections"), list):
        return ()
    return tuple(
        (str(s.get("title", "")), str(s.get("text", "")))
        for s in display["sections"]
        if isinstance(s, dict)
    )
