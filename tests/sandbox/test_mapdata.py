"""Map data: features in the box, filtered by the token's scopes, plus the user's own reports."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.sandbox.conftest import Login, fresh_login
from tests.sandbox.flow import SandboxBrowser
from tests.sandbox.oauth import api, client_token

# Reading and Windsor: hospitals, schools, a power line, a restricted area and an aerodrome.
THAMES_VALLEY = "n=51.7&e=-0.5&s=51.3&w=-1.3"


def geojson(base_url: str, token: str, box: str = THAMES_VALLEY) -> dict[str, Any]:
    response = api(base_url, "GET", f"/v2/mapdata/geojson?{box}", token)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def categories(body: dict[str, Any]) -> set[str]:
    return {f["properties"]["category"] for f in body["features"]}


def test_collection_shape_and_ground_features(base_url: str) -> None:
    body = geojson(base_url, client_token(base_url, "query_mapdata"))
    assert body["type"] == "FeatureCollection"
    assert body["isCompleteData"] is True
    assert body["excludedData"] == []
    assert categories(body) == {"ground"}
    names = {f["properties"]["name"] for f in body["features"]}
    assert {"Royal Berkshire Hospital", "Reading School", "Didcot to Bramley 400 kV line"} <= names
    feature = body["features"][0]
    properties = feature["properties"]
    assert {
        "category",
        "detailedCategory",
        "name",
        "altitudeFloor",
        "fillColor",
        "strokeColor",
    } <= (set(properties))
    section = properties["display"]["sections"][0]
    assert set(section) == {"iconUrl", "title", "text"}
    assert properties["display"]["title"] == properties["name"]


def test_air_features_need_the_air_scope(base_url: str) -> None:
    body = geojson(base_url, client_token(base_url, "query_mapairdata"))
    assert categories(body) == {"airspace"}
    detailed = {f["properties"]["detailedCategory"] for f in body["features"]}
    assert {"airspace:restricted", "airspace:aerodrome"} <= detailed
    both = geojson(base_url, client_token(base_url, "query_mapdata query_mapairdata"))
    assert categories(both) == {"ground", "airspace"}


def test_only_features_in_the_box_are_returned(base_url: str) -> None:
    token = client_token(base_url, "query_mapdata query_mapairdata")
    edinburgh = geojson(base_url, token, "n=56.1&e=-3.0&s=55.8&w=-3.5")
    names = {f["properties"]["name"] for f in edinburgh["features"]}
    assert names == {"Royal Infirmary of Edinburgh", "Edinburgh CTR"}
    sea = geojson(base_url, token, "n=50.0&e=-10.0&s=49.0&w=-11.0")
    assert sea["features"] == []


def test_token_without_map_scopes_is_refused(base_url: str) -> None:
    token = client_token(base_url, "talk_tower")
    response = api(base_url, "GET", f"/v2/mapdata/geojson?{THAMES_VALLEY}", token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="query_mapdata query_mapairdata"'
    )


@pytest.mark.parametrize(
    ("box", "field"),
    [
        ("n=51&e=0&s=50", "w"),
        ("n=x&e=0&s=50&w=-1", "n"),
        ("n=nan&e=0&s=50&w=-1", "n"),
        ("n=91&e=0&s=90&w=-1", "n"),
        ("n=50&e=0&s=51&w=-1", "n"),
        ("n=51&e=-1&s=50&w=0", "e"),
        ("n=53&e=0&s=50&w=-1", "n"),
        ("n=51&e=2&s=50&w=-1", "e"),
        ("n=51&e=181&s=50&w=180", "e"),
    ],
)
def test_bad_boxes_are_400_naming_the_field(base_url: str, box: str, field: str) -> None:
    token = client_token(base_url, "query_mapdata")
    response = api(base_url, "GET", f"/v2/mapdata/geojson?{box}", token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["fields"]


def test_user_token_adds_own_reports_only(
    base_url: str, alice: Login, bob_browser: SandboxBrowser
) -> None:
    body = {
        "name": "Mapdata check flight",
        "flight_type": "rec",
        "timezone": "Europe/London",
        "start": "2031-01-01T10:00:00",
        "end": "2031-01-01T11:00:00",
        "radius_meters": 500,
        "loc": {"lat": 51.60, "lng": -1.20},
    }
    flight_id = api(base_url, "PUT", "/flightReport", alice.access_token, json=body).json()[
        "flightId"
    ]
    mine = [
        f
        for f in geojson(base_url, alice.access_token)["features"]
        if f["properties"]["detailedCategory"] == "user:flight_plan_report"
    ]
    ours = next(f for f in mine if f["id"] == flight_id)
    assert ours["properties"]["isOwner"] is True
    assert ours["properties"]["name"] == "Mapdata check flight"
    assert ours["geometry"]["type"] == "Polygon"
    assert ours["properties"]["flightId"] == flight_id
    assert ours["properties"]["status"] == "scheduled"
    assert all(f["properties"]["isOwner"] for f in mine)
    # Alice's seeded report near Reading is in the box; Salisbury Plain's is not.
    assert "Reading Business Park roof inspection" in {f["properties"]["name"] for f in mine}
    assert "Salisbury Plain mapping run" not in {f["properties"]["name"] for f in mine}

    bob = fresh_login(bob_browser)
    theirs = geojson(base_url, bob.access_token)["features"]
    assert flight_id not in {f.get("id") for f in theirs}
    client = geojson(base_url, client_token(base_url, "query_mapdata"))["features"]
    assert not [f for f in client if f["properties"]["category"] == "user"]


def report_features(base_url: str, token: str, box: str = THAMES_VALLEY) -> list[dict[str, Any]]:
    return [
        f
        for f in geojson(base_url, token, box)["features"]
        if f["properties"]["detailedCategory"] == "user:flight_plan_report"
    ]


def test_report_feature_reads_as_missionplanner_reads_it(base_url: str, alice: Login) -> None:
    body = {
        "name": "Feature shape flight",
        "description": "Checking what the map shows.",
        "flight_type": "com",
        "timezone": "Europe/London",
        "start": "2031-02-01T10:00:00",
        "end": "2031-02-01T12:30:00",
        "radius_meters": 250,
        "loc": {"lat": 51.55, "lng": -1.10},
    }
    flight_id = api(base_url, "PUT", "/flightReport", alice.access_token, json=body).json()[
        "flightId"
    ]
    feature = next(f for f in report_features(base_url, alice.access_token) if f["id"] == flight_id)
    assert str(uuid.UUID(feature["id"])) == flight_id
    properties = feature["properties"]
    assert properties["category"] == "user"
    assert properties["altitudeFloor"] == {"datum": "Sfc", "meters": 0}
    assert properties["fillColor"].startswith("#") and properties["strokeColor"].startswith("#")
    assert properties["filters"] == [
        {"name": "Flight reports", "property": "show", "active": True, "parentName": None}
    ]
    display = properties["display"]
    assert display["title"] == "Feature shape flight"
    assert display["category"] == "User"
    texts = {section["title"]: section["text"] for section in display["sections"]}
    assert texts["When"] == "2031-02-01T10:00:00 to 2031-02-01T12:30:00 (Europe/London)"
    assert texts["Flight type"] == "Commercial"
    assert texts["Description"] == "Checking what the map shows."
    assert texts["Flight report"] == properties["reference"]
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    centre_lng = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
    centre_lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    assert abs(centre_lat - 51.55) < 1e-4 and abs(centre_lng + 1.10) < 1e-4
    # 250 m north of the centre is about 0.00225 degrees of latitude.
    assert abs(max(p[1] for p in ring) - 51.55 - 0.00225) < 1e-4


def test_completed_reports_leave_the_map(base_url: str, alice: Login) -> None:
    body = {
        "name": "Soon completed flight",
        "flight_type": "rec",
        "timezone": "Europe/London",
        "start": "2031-03-01T10:00:00",
        "end": "2031-03-01T11:00:00",
        "radius_meters": 100,
        "loc": {"lat": 51.45, "lng": -0.90},
    }
    flight_id = api(base_url, "PUT", "/flightReport", alice.access_token, json=body).json()[
        "flightId"
    ]
    assert flight_id in {f["id"] for f in report_features(base_url, alice.access_token)}
    completed = api(base_url, "DELETE", f"/flightReport/{flight_id}", alice.access_token)
    assert completed.status_code == 200
    assert flight_id not in {f["id"] for f in report_features(base_url, alice.access_token)}
