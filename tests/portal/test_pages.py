"""The signed-in pages: reports listed, shown, filed and completed; profile and session."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.oauth_driver import csrf_token
from tests.portal.conftest import SignIn
from tests.portal.test_health import METRICS_AUTH

VALID = {
    "name": "Survey of the old mill",
    "flight_type": "com",
    "timezone": "Europe/London",
    "start": "2030-06-01T09:00",
    "end": "2030-06-01T10:30",
    "lat": "51.4545",
    "lng": "-0.9781",
    "radius_meters": "300",
    "description": "Roof inspection",
}


def report_paths(page: str) -> list[str]:
    return re.findall(r'href="(/flight-reports/(?!new)[^"?]+)"', page)


def test_the_list_shows_the_users_reports_newest_first(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client)
    page = client.get("/flight-reports").get_data(as_text=True)
    assert "newest first" in page
    assert len(report_paths(page)) >= 5
    assert "Europe/London" in page


def test_a_report_page_shows_the_sketch_with_map_features(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client)
    path = report_paths(client.get("/flight-reports").get_data(as_text=True))[0]
    page = client.get(path).get_data(as_text=True)
    assert '<svg class="sketch"' in page
    assert 'class="sketch-report"' in page
    assert "<title>" in page


def test_another_users_report_is_not_found(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(client, "bob")
    bobs = report_paths(client.get("/flight-reports").get_data(as_text=True))[0]
    alice = client.application.test_client()
    sign_in(alice, "alice")
    response = alice.get(bobs)
    assert response.status_code == 404
    assert b"no such flight report" in response.data


def test_filing_a_report_lists_it_and_completing_it_twice_is_harmless(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client, "bob")
    form = client.get("/flight-reports/new").get_data(as_text=True)
    response = client.post("/flight-reports/new", data={**VALID, "csrf_token": csrf_token(form)})
    assert response.status_code == 303
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Survey of the old mill" in shown and "Commercial" in shown
    listed = client.get("/flight-reports").get_data(as_text=True)
    assert response.headers["Location"] in report_paths(listed)
    complete = response.headers["Location"] + "/complete"
    for _ in range(2):
        done = client.post(complete, data={"csrf_token": csrf_token(shown)})
        assert done.status_code == 303
    assert "completed" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_bad_fields_are_shown_inline_and_nothing_is_filed(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client)
    before = client.get("/flight-reports").get_data(as_text=True)
    form = client.get("/flight-reports/new").get_data(as_text=True)
    bad = {
        **VALID,
        "name": "",
        "timezone": "Mars/Olympus",
        "end": "2030-06-01T08:00",
        "lat": "123",
        "radius_meters": "-5",
        "csrf_token": csrf_token(form),
    }
    response = client.post("/flight-reports/new", data=bad)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert page.count('class="error" id=') == 5
    assert 'aria-invalid="true"' in page
    assert client.get("/flight-reports").get_data(as_text=True).count("<tr>") == before.count(
        "<tr>"
    )


def test_bad_paging_is_a_400(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(client)
    assert client.get("/flight-reports?page=-1").status_code == 400
    assert client.get("/flight-reports?page=abc").status_code == 400


@pytest.mark.parametrize("page", ["²", "①", "٣", "1.0", " 1", "+1", "0"])
def test_a_page_number_other_than_ascii_digits_is_a_400(
    client: FlaskClient, sign_in: SignIn, page: str
) -> None:
    # str.isdigit() holds for superscripts and circled digits, which int() refuses.
    sign_in(client)
    assert client.get("/flight-reports", query_string={"page": page}).status_code == 400


def test_profile_and_session_pages(client: FlaskClient, sign_in: SignIn) -> None:
    sign_in(client)
    profile = client.get("/profile").get_data(as_text=True)
    assert "Units" in profile and "Metric" in profile
    session_page = client.get("/session").get_data(as_text=True)
    assert "manage_flightreports" in session_page
    assert "urn:oauth:scope" in session_page
    assert "Last refreshed" in session_page


def api_calls(client: FlaskClient) -> float:
    """Count every call the app has made to the API, from its own metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    text = client.get("/metrics", headers=METRICS_AUTH).get_data(as_text=True)
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "altitudeangel_api_seconds_count"
    )


@pytest.mark.parametrize(
    "path",
    [
        "/flight-reports/%2E%2E",
        "/flight-reports/..%2F..%2Fadmin",
        "/flight-reports/%2e%2e%2fflightReport",
        "/flight-reports/a%20b",
        "/flight-reports/" + "a" * 65,
        "/flight-reports/-starts-with-a-dash",
    ],
)
def test_a_malformed_report_id_is_a_404_without_any_api_call(
    client: FlaskClient, sign_in: SignIn, path: str
) -> None:
    sign_in(client)
    token = csrf_token(client.get("/flight-reports").get_data(as_text=True))
    before = api_calls(client)
    assert client.get(path).status_code == 404
    assert client.post(path + "/complete", data={"csrf_token": token}).status_code == 404
    assert api_calls(client) == before
