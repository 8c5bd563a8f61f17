"""What the templates call, done once where it can be: links that never change, each report's
link, times and status names.

A page's navigation, stylesheet and icon links are the same on every request, and url_for takes
~50,000 instructions to build one; strftime ~16,000 to show a time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, request

from portal.platform import FLIGHT_ID, FlightIdConverter

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))


def init_app(app: Flask) -> None:
    """Give the app's templates these url_for, report_links, local_time and css_name."""
    app.jinja_env.globals["url_for"] = FixedLinks(app).url_for
    app.jinja_env.globals["report_links"] = ReportLinks(app)
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["css_name"] = css_name


class FixedLinks:
    """url_for for templates, keeping the URLs that take no values, and static files'.

    Those are built the first time for each path the app is mounted at (its SCRIPT_NAME), then
    taken from here. Any other call is url_for's: a URL with values (a report, a page number)
    is built as asked, and so is one outside a request, or relative to the current blueprint.
    """

    def __init__(self, app: Flask) -> None:
        self._url_for = app.url_for
        self._built: dict[tuple[str, str, Any], str] = {}

    def url_for(self, endpoint: str, /, **values: Any) -> str:
        if values and (endpoint != "static" or len(values) != 1 or "filename" not in values):
            return self._url_for(endpoint, **values)
        if endpoint[:1] == ".":
            return self._url_for(endpoint, **values)
        try:
            # The request itself: each attribute read through the proxy costs ~9,000 instructions.
            mounted_at = request._get_current_object().root_path  # type: ignore[attr-defined]
        except RuntimeError:  # outside a request: url_for builds external URLs
            return self._url_for(endpoint, **values)
        key = (mounted_at, endpoint, values.get("filename"))
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._url_for(endpoint, **values)
        return built


class ReportLinks:
    """report_links for templates: a function from a report's id to its page's URL.

    Only the id changes from one report's link to the next, and the rest only with the path
    the app is mounted at: it is built by url_for once for each. A well-formed id has nothing
    to quote; any other is quoted by the converter url_for would use.
    """

    def __init__(self, app: Flask) -> None:
        self._url_for = app.url_for
        self._to_url = FlightIdConverter(app.url_map).to_url
        self._prefixes: dict[str, str] = {}

    def __call__(self) -> Callable[[str], str]:
        try:
            mounted_at = request._get_current_object().root_path  # type: ignore[attr-defined]
        except RuntimeError:  # outside a request: url_for builds external URLs
            return self._links(self._prefix())
        prefix = self._prefixes.get(mounted_at)
        if prefix is None:
            prefix = self._prefixes[mounted_at] = self._prefix()
        return self._links(prefix)

    def _prefix(self) -> str:
        return self._url_for("flights.show", flight_id="-").removesuffix("-")

    def _links(self, prefix: str) -> Callable[[str], str]:
        to_url = self._to_url

        def link(flight_id: str) -> str:
            if FLIGHT_ID.fullmatch(flight_id):
                return prefix + flight_id
            return prefix + to_url(flight_id)

        return link


def local_time(moment: datetime) -> str:
    """Show a time as ``03 Dec 2026 14:00``: strftime's ``%d %b %Y %H:%M`` in the C locale."""
    two = TWO_DIGITS
    month = MONTHS[moment.month - 1]
    return f"{two[moment.day]} {month} {moment.year} {two[moment.hour]}:{two[moment.minute]}"


def css_name(text: str) -> str:
    """Turn a status such as ``not on the map`` into a class name part: ``not-on-the-map``."""
    return text.replace(" ", "-")
