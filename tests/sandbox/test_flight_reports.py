"""The flight reports API: create, list, read and complete, with every field validated."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from tests.sandbox.conftest import Login
from tests.sandbox.oauth import api


def report(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": f"Test flight {uuid.uuid4().hex[:8]}",
        "description": "Roof inspection",
        "flight_type": "com",
        "timezone": "Europe/London",
        "start": "2030-06-01T10:00:00",
        "end": "2030-06-01T12:30:00",
        "radius_meters": 250,
        "loc": {"lat": 51.45, "lng": -0.97},
    }
    body.update(changes)
    return body


def create(base_url: str, login: Login, **changes: Any) -> str:
    response = api(base_url, "PUT", "/flightReport", login.access_token, json=report(**changes))
    assert response.status_code == 201, response.text
    return str(response.json()["flightId"])


def test_create_then_read_back(base_url: str, alice: Login) -> None:
    body = report(name="  Spaced name  ")
    response = api(base_url, "PUT", "/flightReport", alice.access_token, json=body)
    assert response.status_code == 201
    assert set(response.json()) == {"flightId"}
    flight_id = response.json()["flightId"]
    got = api(base_url, "GET", f"/flightReport/{flight_id}", alice.access_token).json()
    assert got["flightId"] == flight_id
    assert re.fullmatch(r"AA-FR-\d{6}", got["reference"])
    assert got["name"] == "Spaced name"
    assert got["description"] == "Roof inspection"
    assert got["flight_type"] == "com"
    assert got["timezone"] == "Europe/London"
    assert (got["start"], got["end"]) == ("2030-06-01T10:00:00", "2030-06-01T12:30:00")
    assert got["radius_meters"] == 250
    assert got["loc"] == {"lat": 51.45, "lng": -0.97}
    assert got["status"] == "scheduled"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got["created_at"])


def test_description_is_optional(base_url: str, alice: Login) -> None:
    body = report()
    del body["description"]
    response = api(base_url, "PUT", "/flightReport", alice.access_token, json=body)
    flight_id = response.json()["flightId"]
    got = api(base_url, "GET", f"/flightReport/{flight_id}", alice.access_token).json()
    assert got["description"] == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": 5}, "name"),
        ({"description": "x" * 501}, "description"),
        ({"flight_type": "mil"}, "flight_type"),
        ({"flight_type": None}, "flight_type"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": "../../etc/passwd"}, "timezone"),
        ({"timezone": 1}, "timezone"),
        ({"start": "tomorrow"}, "start"),
        ({"start": "2030-06-01T10:00:00+01:00"}, "start"),
        ({"end": "2030-06-01T09:00:00"}, "end"),
        ({"end": "2030-06-01T10:00:00"}, "end"),
        ({"end": "2030-06-02T10:00:01"}, "end"),
        ({"start": "2030-03-31T01:30:00"}, "start"),
        ({"radius_meters": 0}, "radius_meters"),
        ({"radius_meters": 10001}, "radius_meters"),
        ({"radius_meters": 12.5}, "radius_meters"),
        ({"radius_meters": True}, "radius_meters"),
        ({"radius_meters": "100"}, "radius_meters"),
        ({"loc": {"lat": 91, "lng": 0}}, "loc.lat"),
        ({"loc": {"lat": 0, "lng": -180.5}}, "loc.lng"),
        ({"loc": {"lat": "51", "lng": 0}}, "loc.lat"),
        ({"loc": [51, 0]}, "loc"),
        ({"loc": None}, "loc"),
    ],
)
def test_each_field_is_validated_and_nothing_is_written(
    base_url: str, bob: Login, changes: dict[str, Any], field: str
) -> None:
    before = api(base_url, "GET", "/flightReport", bob.access_token).json()["total"]
    body = report(**changes)
    response = api(base_url, "PUT", "/flightReport", bob.access_token, json=body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert field in response.json()["fields"]
    assert api(base_url, "GET", "/flightReport", bob.access_token).json()["total"] == before


def test_missing_fields_are_all_named(base_url: str, bob: Login) -> None:
    response = api(base_url, "PUT", "/flightReport", bob.access_token, json={})
    fields = response.json()["fields"]
    assert {"name", "flight_type", "timezone", "start", "end", "radius_meters", "loc"} <= set(
        fields
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "not json", "headers": {"Content-Type": "application/json"}},
        {"data": "name=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        {"json": ["a", "list"]},
        {"json": "a string"},
    ],
)
def test_non_json_bodies_are_400(base_url: str, bob: Login, kwargs: dict[str, Any]) -> None:
    response = api(base_url, "PUT", "/flightReport", bob.access_token, **kwargs)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "body" in response.json()["fields"]


def test_another_users_report_is_not_found(base_url: str, alice: Login, bob: Login) -> None:
    flight_id = create(base_url, alice)
    for method in ("GET", "DELETE"):
        response = api(base_url, method, f"/flightReport/{flight_id}", bob.access_token)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    assert api(base_url, "GET", f"/flightReport/{flight_id}", alice.access_token).ok
    unknown = api(base_url, "GET", "/flightReport/no-such-id", alice.access_token)
    assert unknown.status_code == 404


def test_complete_once_then_conflict(base_url: str, alice: Login) -> None:
    flight_id = create(base_url, alice)
    done = api(base_url, "DELETE", f"/flightReport/{flight_id}", alice.access_token)
    assert done.status_code == 200
    assert done.json()["status"] == "completed"
    assert done.json()["flightId"] == flight_id
    again = api(base_url, "DELETE", f"/flightReport/{flight_id}", alice.access_token)
    assert again.status_code == 409
    assert again.json()["error"] == "conflict"
    got = api(base_url, "GET", f"/flightReport/{flight_id}", alice.access_token).json()
    assert got["status"] == "completed"


def test_paging_newest_start_first(base_url: str, bob: Login) -> None:
    years = [2041, 2043, 2042]
    ids = {
        year: create(base_url, bob, start=f"{year}-01-01T10:00:00", end=f"{year}-01-01T11:00:00")
        for year in years
    }
    first = api(base_url, "GET", "/flightReport?page=1&per_page=2", bob.access_token).json()
    assert first["page"] == 1
    assert first["per_page"] == 2
    assert first["total"] >= 3
    assert [item["flightId"] for item in first["items"]] == [ids[2043], ids[2042]]
    second = api(base_url, "GET", "/flightReport?page=2&per_page=2", bob.access_token).json()
    assert second["items"][0]["flightId"] == ids[2041]
    everything = api(base_url, "GET", "/flightReport?per_page=100", bob.access_token).json()
    starts = [item["start"] for item in everything["items"]]
    assert starts == sorted(starts, reverse=True)
    defaults = api(base_url, "GET", "/flightReport", bob.access_token).json()
    assert (defaults["page"], defaults["per_page"]) == (1, 20)
    beyond = api(base_url, "GET", "/flightReport?page=999", bob.access_token).json()
    assert beyond["items"] == []


@pytest.mark.parametrize(
    "query", ["page=0", "page=x", "per_page=0", "per_page=101", "per_page=-1", "page=1.5"]
)
def test_bad_paging_is_400(base_url: str, bob: Login, query: str) -> None:
    response = api(base_url, "GET", f"/flightReport?{query}", bob.access_token)
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()["fields"]


def test_seeded_reports_cover_past_active_and_future(
    base_url: str, alice: Login, bob: Login
) -> None:
    names = {}
    for who, login, least in (("alice", alice, 5), ("bob", bob, 3)):
        items = api(base_url, "GET", "/flightReport?per_page=100", login.access_token).json()
        seeded = [i for i in items["items"] if not i["name"].startswith("Test flight")]
        assert len(seeded) >= least
        assert {"ended", "active", "scheduled"} <= {i["status"] for i in seeded}
        assert {"com", "rec"} <= {i["flight_type"] for i in seeded}
        names[who] = {i["name"] for i in seeded}
    assert not names["alice"] & names["bob"]
