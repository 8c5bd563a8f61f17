"""What the templates call, done once where it can be: links that never change, each report's
link.

A page's navigation, stylesheet and icon links are the same on every request, and url_for takes
~35,000–50,000 instructions to build one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request, url_for

from portal.platform import FLIGHT_ID, FlightIdConverter


def init_app(app: Flask) -> None:
    """Give the app's templates this url_for, and report_links."""
    app.jinja_env.globals["url_for"] = FixedLinks(app).url_for
    app.jinja_env.globals["report_links"] = report_links


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


def report_links() -> Callable[[str], str]:
    """Return a function from a report's id to its page's URL: url_for once, not once a row.

    Only the id changes from one report's link to the next. A well-formed id has nothing to
    quote; any other is quoted by the converter url_for would use.
    """
    prefix = url_for("flights.show", flight_id="-").removesuffix("-")
    to_url = FlightIdConverter(current_app.url_map).to_url

    def link(flight_id: str) -> str:
        if FLIGHT_ID.fullmatch(flight_id):
            return prefix + flight_id
        return prefix + to_url(flight_id)

    return link
