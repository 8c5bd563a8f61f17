"""The platform's domain objects as the app uses them, parsed from API responses."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

FLIGHT_TYPES = {"com": "Commercial", "rec": "Recreational"}


@dataclass(frozen=True)
class FlightReport:
    """One flight report; ``start`` and ``end`` are local times in ``timezone``."""

    flight_id: str
    reference: str
    name: str
    description: str
    flight_type: str
    timezone: str
    start: datetime
    end: datetime
    radius_meters: int
    lat: float
    lng: float
    status: str

    @property
    def type_label(self) -> str:
        return FLIGHT_TYPES.get(self.flight_type, self.flight_type)

    @property
    def can_complete(self) -> bool:
        return self.status in ("scheduled", "active")

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
        )
