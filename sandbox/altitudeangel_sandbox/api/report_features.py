"""A user's own flight reports as map features, in the shape the platform's clients read."""

from __future__ import annotations

from typing import Any

from altitudeangel_sandbox.api.geo import circle

REPORT_CATEGORY = "user:flight_plan_report"
FLIGHT_TYPES = {"com": "Commercial", "rec": "Recreational"}
# MissionPlanner shows a feature only when one of its filters is visible.
REPORT_FILTER = {"name": "Flight reports", "property": "show", "active": True, "parentName": None}
# Not known from the platform: the sandbox's own additions, left out in aa-public mode.
SANDBOX_FIELDS = ("flightId", "reference", "status")


def _section(title: str, text: str) -> dict[str, Any]:
    return {"iconUrl": None, "title": title, "text": text}


def _sections(report: dict[str, Any]) -> list[dict[str, Any]]:
    when = f"{report['start']} to {report['end']} ({report['timezone']})"
    sections = [
        _section("Flight report", report["reference"]),
        _section("When", when),
        _section("Flight type", FLIGHT_TYPES[report["flight_type"]]),
    ]
    if report["description"]:
        sections.append(_section("Description", report["description"]))
    return sections


def is_current(report: dict[str, Any]) -> bool:
    """Return whether the report still shows on the map: it is not completed."""
    return bool(report["status"] != "completed")


def report_feature(report: dict[str, Any], sandbox_fields: bool) -> dict[str, Any]:
    """Return the owner's report as a feature; ``sandbox_fields`` adds id, reference, status."""
    loc = report["loc"]
    properties: dict[str, Any] = {
        "category": "user",
        "detailedCategory": REPORT_CATEGORY,
        "name": report["name"],
        "isOwner": True,
        "altitudeFloor": {"datum": "Sfc", "meters": 0},
        "fillColor": "#fdd835",
        "strokeColor": "#f57f17",
        "display": {
            "category": "User",
            "detailedCategory": "Flight report",
            "title": report["name"],
            "sections": _sections(report),
        },
        "filters": [REPORT_FILTER],
    }
    if sandbox_fields:
        properties.update({name: report[name] for name in SANDBOX_FIELDS})
    return {
        "type": "Feature",
        # MissionPlanner parses the feature id as the report's GUID.
        "id": report["flightId"],
        "geometry": circle(loc["lat"], loc["lng"], report["radius_meters"]),
        "properties": properties,
    }
