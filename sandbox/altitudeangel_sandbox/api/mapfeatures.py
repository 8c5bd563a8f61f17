"""A small synthetic set of UK map features: ground points of interest and airspace."""

from __future__ import annotations

from typing import Any

from altitudeangel_sandbox.api.geo import circle

GROUND_STYLE = {"fillColor": "#4caf50", "strokeColor": "#2e7d32"}
AIR_STYLES = {
    "airspace:class_d": {"fillColor": "#1e88e5", "strokeColor": "#0d47a1"},
    "airspace:danger_area": {"fillColor": "#e53935", "strokeColor": "#b71c1c"},
    "airspace:restricted": {"fillColor": "#fb8c00", "strokeColor": "#e65100"},
    "airspace:aerodrome": {"fillColor": "#8e24aa", "strokeColor": "#4a148c"},
}


def _point(lat: float, lng: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lng, lat]}


def _feature(
    ident: str, detailed: str, name: str, geometry: dict[str, Any], floor_m: int, text: str
) -> dict[str, Any]:
    ground = detailed.startswith("ground:")
    style = GROUND_STYLE if ground else AIR_STYLES[detailed]
    kind = detailed.split(":", 1)[1].replace("_", " ")
    return {
        "type": "Feature",
        "id": ident,
        "geometry": geometry,
        "properties": {
            "category": "ground" if ground else "airspace",
            "detailedCategory": detailed,
            "name": name,
            "altitudeFloor": {"datum": "Sfc", "meters": floor_m},
            **style,
            "display": {
                "title": name,
                "sections": [{"iconUrl": None, "title": kind.capitalize(), "text": text}],
            },
        },
    }


GROUND_FEATURES = [
    _feature(
        "g-rbh",
        "ground:hospital",
        "Royal Berkshire Hospital",
        _point(51.4497, -0.9590),
        0,
        "Hospital with a helicopter landing site. Avoid overflight.",
    ),
    _feature(
        "g-sdh",
        "ground:hospital",
        "Salisbury District Hospital",
        _point(51.0468, -1.7918),
        0,
        "Hospital with an air ambulance pad.",
    ),
    _feature(
        "g-rie",
        "ground:hospital",
        "Royal Infirmary of Edinburgh",
        _point(55.9214, -3.1347),
        0,
        "Major trauma centre with a helipad.",
    ),
    _feature(
        "g-rs",
        "ground:school",
        "Reading School",
        _point(51.4465, -0.9585),
        0,
        "School grounds: keep 50 m clear during term time.",
    ),
    _feature(
        "g-hvc",
        "ground:school",
        "Hope Valley College",
        _point(53.3450, -1.7080),
        0,
        "School grounds in the Peak District.",
    ),
    _feature(
        "g-pl1",
        "ground:power_line",
        "Didcot to Bramley 400 kV line",
        {"type": "LineString", "coordinates": [[-1.27, 51.62], [-1.12, 51.47], [-1.05, 51.33]]},
        0,
        "Overhead high-voltage transmission line.",
    ),
    _feature(
        "g-pl2",
        "ground:power_line",
        "Stocksbridge to Thorpe Marsh 275 kV line",
        {"type": "LineString", "coordinates": [[-1.60, 53.48], [-1.35, 53.52], [-1.05, 53.56]]},
        0,
        "Overhead high-voltage transmission line.",
    ),
]

AIR_FEATURES = [
    _feature(
        "a-sou",
        "airspace:class_d",
        "Southampton CTR",
        circle(50.9503, -1.3568, 9000),
        0,
        "Class D control zone: clearance required.",
    ),
    _feature(
        "a-brs",
        "airspace:class_d",
        "Bristol CTR",
        circle(51.3827, -2.7191, 10000),
        0,
        "Class D control zone: clearance required.",
    ),
    _feature(
        "a-edi",
        "airspace:class_d",
        "Edinburgh CTR",
        circle(55.9500, -3.3725, 12000),
        0,
        "Class D control zone: clearance required.",
    ),
    _feature(
        "a-d123",
        "airspace:danger_area",
        "Salisbury Plain Danger Area",
        circle(51.2300, -1.8500, 12000),
        0,
        "Military firing range: no flying when active.",
    ),
    _feature(
        "a-wind",
        "airspace:restricted",
        "Windsor Castle Restricted Area",
        circle(51.4839, -0.6044, 2400),
        0,
        "Restricted airspace: no flying without permission.",
    ),
    _feature(
        "a-eww",
        "airspace:aerodrome",
        "White Waltham Aerodrome",
        circle(51.5003, -0.7744, 2000),
        0,
        "Aerodrome traffic zone: contact the operator before flying.",
    ),
    _feature(
        "a-egnx",
        "airspace:aerodrome",
        "Sheffield Heliport",
        circle(53.3943, -1.3886, 1000),
        0,
        "Heliport: keep clear of approach paths.",
    ),
]
