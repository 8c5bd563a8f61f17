"""What templates call gives what url_for and strftime give, built once where it never changes."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

import pytest
from flask import Flask, render_template_string, url_for

from portal import flights, templating
from portal.platform import FlightIdConverter


class CountingFlask(Flask):
    """A Flask app that counts the URLs it builds."""

    built = 0

    def url_for(self, endpoint: str, /, **values: Any) -> str:  # type: ignore[override]
        self.built += 1
        return super().url_for(endpoint, **values)


@pytest.fixture
def app() -> CountingFlask:
    app = CountingFlask(__name__, static_folder="../../static")
    app.url_map.converters["flight_id"] = FlightIdConverter
    app.register_blueprint(flights.bp)
    templating.init_app(app)
    return app


def test_times_read_as_strftime_writes_them() -> None:
    rng = random.Random(22)
    moments = [datetime(1, 1, 1), datetime(999, 12, 31, 23, 59), datetime(9999, 6, 9, 0, 5)]
    moments += [
        datetime(
            rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23)
        ).replace(minute=rng.randint(0, 59), second=rng.randint(0, 59))
        for _ in range(20_000)
    ]
    for moment in moments:
        assert templating.local_time(moment) == moment.strftime("%d %b %Y %H:%M")


@pytest.mark.parametrize("mounted_at", ["", "/portal"])
def test_report_links_are_url_fors_for_any_id(app: CountingFlask, mounted_at: str) -> None:
    ids = ["92f5bdbf-3432-4632-b22a-ae11dfd09b3e", "AA_1", "a b", "ä/ö", "../x", "%2F", ""]
    ids += ["<b>&\"'", "?x=1#y", "a" * 65]
    report_links = app.jinja_env.globals["report_links"]
    for _ in range(3):
        base_url = f"http://portal.test{mounted_at}/"
        with app.test_request_context("/flight-reports", base_url=base_url):
            link = report_links()
            for flight_id in ids:
                assert link(flight_id) == url_for("flights.show", flight_id=flight_id)
    assert app.built == 3 * len(ids) + 1  # the expected URLs, and the links' prefix once


def test_links_that_take_no_values_are_built_once_per_mount_point(app: CountingFlask) -> None:
    page = (
        "{{ url_for('flights.index') }} {{ url_for('flights.new') }} "
        "{{ url_for('static', filename='style.css') }} {{ url_for('flights.index', page=2) }}"
    )
    seen = {}
    for _ in range(3):
        for mounted_at in ("", "/portal"):
            base_url = f"http://portal.test{mounted_at}/"
            with app.test_request_context("/flight-reports", base_url=base_url):
                seen[mounted_at] = render_template_string(page)
                expected = " ".join(
                    [
                        url_for("flights.index"),
                        url_for("flights.new"),
                        url_for("static", filename="style.css"),
                        url_for("flights.index", page=2),
                    ]
                )
                assert seen[mounted_at] == expected
    assert seen[""].startswith("/flight-reports /flight-reports/new /static/style.css ")
    assert seen["/portal"].startswith("/portal/flight-reports ")
    # Each page's expected URLs: 4 per render, 6 renders. Rendered: 3 fixed links per mount
    # point once, and the one with a page number each time.
    assert app.built == 4 * 6 + 3 * 2 + 6


def test_outside_a_request_links_are_url_fors(app: CountingFlask) -> None:
    app.config["SERVER_NAME"] = "portal.test"
    with app.app_context():
        assert render_template_string("{{ url_for('flights.new') }}") == (
            "http://portal.test/flight-reports/new"
        )


def test_a_status_becomes_a_class_name() -> None:
    assert templating.css_name("not on the map") == "not-on-the-map"
    assert templating.css_name("scheduled") == "scheduled"
