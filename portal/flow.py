"""The /flow page: the signed-in user's own sign-in and refreshes as a sequence diagram."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Blueprint, g, render_template, session
from redis.exceptions import RedisError

from portal.refresh import SignInRequired
from portal.services import services
from portal.trace import ACTORS, Step

bp = Blueprint("flow", __name__)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    """A step placed on the diagram: which lifelines its arrow spans, and which way it points."""

    step: Step
    span: str  # CSS class naming the first and last lifeline, e.g. "span-1-3"
    direction: str  # "right" or "left"
    offset: str  # time since the first step


@bp.get("/flow")
def show() -> str:
    """Draw this login's trace, oldest step first."""
    login_id = session.get("login_id")
    if not login_id:
        raise SignInRequired()
    trace = services().trace
    steps = trace.steps(login_id) if trace.enabled else []
    return render_template("flow.html", rows=diagram(steps), actors=ACTORS, enabled=trace.enabled)


def diagram(steps: list[Step]) -> list[Row]:
    """Place each step between its two lifelines."""
    if not steps:
        return []
    first = steps[0].at
    rows = []
    for step in steps:
        source, target = ACTORS.index(step.source), ACTORS.index(step.target)
        low, high = sorted((source, target))
        rows.append(
            Row(
                step,
                f"span-{low}-{high}",
                "right" if target > source else "left",
                f"+{step.at - first:.2f} s",
            )
        )
    return rows


def flush_trace() -> None:
    """Write the steps this request noted, in one round trip, once the login is known."""
    steps = g.pop("trace_steps", None)
    login_id = session.get("login_id") if steps else None
    if steps and login_id:
        try:
            services().trace.record(login_id, steps)
        except RedisError:
            log.warning("event=trace_write_failed")  # the trace is a teaching aid, not state
