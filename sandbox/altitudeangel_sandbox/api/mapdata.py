"""The map data endpoint: ground and air features in a box, and the user's own reports."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Response, jsonify, request

from altitudeangel_sandbox.api.geo import Box, bounds, overlaps
from altitudeangel_sandbox.api.mapfeatures import AIR_FEATURES, GROUND_FEATURES
from altitudeangel_sandbox.api.report_features import is_current, report_feature
from altitudeangel_sandbox.api.resource import current_token, require_token, token_user
from altitudeangel_sandbox.errors import InvalidInput
from altitudeangel_sandbox.state import current_sandbox

bp = Blueprint("mapdata", __name__)

MAX_SPAN_DEGREES = 2.0
RANGES = {"n": (-90.0, 90.0), "s": (-90.0, 90.0), "e": (-180.0, 180.0), "w": (-180.0, 180.0)}


def parse_box() -> Box:
    """Return the requested (south, west, north, east) box or raise naming each bad field."""
    fields: dict[str, str] = {}
    values: dict[str, float] = {}
    for name, (low, high) in RANGES.items():
        raw = request.args.get(name)
        try:
            value = float(raw) if raw is not None else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not low <= value <= high:
            fields[name] = f"must be a number from {low:g} to {high:g}"
        values[name] = value
    if not fields:
        if values["n"] <= values["s"]:
            fields["n"] = "must be north of s"
        elif values["n"] - values["s"] > MAX_SPAN_DEGREES:
            fields["n"] = f"the box may span at most {MAX_SPAN_DEGREES:g} degrees of latitude"
        if values["e"] <= values["w"]:
            fields["e"] = "must be east of w"
        elif values["e"] - values["w"] > MAX_SPAN_DEGREES:
            fields["e"] = f"the box may span at most {MAX_SPAN_DEGREES:g} degrees of longitude"
    if fields:
        raise InvalidInput(fields)
    return values["s"], values["w"], values["n"], values["e"]


@bp.get("/v2/mapdata/geojson")
@require_token("query_mapdata", "query_mapairdata")
def geojson() -> Response:
    """Return the features in the box that the token's scopes allow."""
    box = parse_box()
    scopes = current_token().scopes
    candidates: list[dict[str, Any]] = []
    if "query_mapdata" in scopes:
        candidates += GROUND_FEATURES
    if "query_mapairdata" in scopes:
        candidates += AIR_FEATURES
    user = token_user()
    if user is not None:
        state = current_sandbox()
        reports = filter(is_current, state.reports.all(user.username))
        extras = not state.settings.documented_only
        candidates += [report_feature(report, sandbox_fields=extras) for report in reports]
    features = [f for f in candidates if overlaps(bounds(f["geometry"]), box)]
    return jsonify(
        {
            "type": "FeatureCollection",
            "features": features,
            "isCompleteData": True,
            "excludedData": [],
        }
    )
