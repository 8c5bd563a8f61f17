"""Demo flight reports for the registry's users: past, active and future, around the UK."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import redis

from altitudeangel_sandbox.api.report_store import FlightReports
from altitudeangel_sandbox.store import key

LONDON = ZoneInfo("Europe/London")

# (name, description, flight_type, hours from now to start, duration in hours, radius, lat, lng)
SEEDS: dict[str, list[tuple[str, str, str, int, int, int, float, float]]] = {
    "alice": [
        (
            "Thames at Reading bank survey",
            "Erosion survey of the south bank near Caversham Bridge.",
            "com",
            -240,
            2,
            300,
            51.4627,
            -0.9706,
        ),
        (
            "Reading Business Park roof inspection",
            "Thermal imaging of three warehouse roofs.",
            "com",
            -50,
            3,
            200,
            51.4310,
            -0.9580,
        ),
        (
            "Salisbury Plain mapping run",
            "Photogrammetry of a licensed survey block.",
            "com",
            -1,
            4,
            1500,
            51.2040,
            -1.8470,
        ),
        (
            "Peak District ridge photography",
            "Sunrise stills along Stanage Edge.",
            "rec",
            46,
            3,
            500,
            53.3526,
            -1.6439,
        ),
        (
            "Edinburgh Old Town chimney check",
            "Chimney and lead-work inspection off the Royal Mile.",
            "com",
            120,
            2,
            150,
            55.9496,
            -3.1883,
        ),
    ],
    "bob": [
        (
            "Cairngorms reindeer count",
            "Volunteer wildlife count, low altitude.",
            "rec",
            -120,
            3,
            2000,
            57.1170,
            -3.6690,
        ),
        (
            "Bristol harbourside crane inspection",
            "Structural check of the harbourside cranes.",
            "com",
            -2,
            5,
            250,
            51.4470,
            -2.6000,
        ),
        (
            "Snowdon summit timelapse",
            "Dawn timelapse above the Pyg Track.",
            "rec",
            72,
            2,
            400,
            53.0685,
            -4.0763,
        ),
    ],
}


def _seed_fields(
    seed: tuple[str, str, str, int, int, int, float, float], now: datetime
) -> dict[str, Any]:
    name, description, flight_type, offset, duration, radius, lat, lng = seed
    start = now + timedelta(hours=offset)
    return {
        "name": name,
        "description": description,
        "flight_type": flight_type,
        "timezone": "Europe/London",
        "start": start.isoformat(timespec="seconds"),
        "end": (start + timedelta(hours=duration)).isoformat(timespec="seconds"),
        "radius_meters": radius,
        "loc": {"lat": lat, "lng": lng},
    }


def seed_reports(db: redis.Redis, reports: FlightReports, usernames: set[str]) -> None:
    """Create each registered user's demo reports once, relative to the first start-up."""
    now = datetime.now(LONDON).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    for username, seeds in SEEDS.items():
        if username not in usernames:
            continue
        for number, seed in enumerate(seeds):
            flight_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-seed/{username}/{number}"))
            # SET NX: sandboxes starting together against one Redis seed each report once.
            if db.set(key("seeded", flight_id), "1", nx=True):
                reports.create(username, _seed_fields(seed, now), flight_id=flight_id)
