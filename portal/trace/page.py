"""The /flow page: the signed-in user's own sign-in and refreshes as a sequence diagram."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Blueprint, render_template

from flask_altitudeangel import SignInRequired, login_required
from portal.extensions import aa
from portal.trace.recorder import recorder
from portal.trace.store import ACTORS, Step

bp = Blueprint("flow", __name__)


@dataclass(frozen=True)
class Row:
    """A step placed on the diagram: which lifelines its arrow spans, and which way it points."""

    step: Step
    span: str  # CSS class naming the first and last lifeline, e.g. "span-1-3"
    direction: str  # "right" or "left"
    offset: str  # time since the sign-in's first step (a previous login's: the clock time)


@bp.get("/flow")
@login_required
def show() -> str:
    """Draw this login's trace, oldest step first."""
    login = aa.current_login
    if login is None:
        raise SignInRequired()
    store = recorder.store()
    steps = store.steps(login.login_id) if store is not None else []
    enabled = store is not None
    return render_template("flow.html", rows=diagram(steps), actors=ACTORS, enabled=enabled)


def diagram(steps: list[Step]) -> list[Row]:
    """Place each step between its two lifelines."""
    if not steps:
        return []
    first = next((s.at for s in steps if not s.previous), steps[0].at)
    rows = []
    for step in steps:
        source, target = ACTORS.index(step.source), ACTORS.index(step.target)
        low, high = sorted((source, target))
        rows.append(
            Row(
                step,
                f"span-{low}-{high}",
                "right" if target > source else "left",
                _before(step.at) if step.previous else f"+{step.at - first:.2f} s",
            )
        )
    return rows


def _before(at: float) -> str:
    """Say when a step of the previous login happened: by the clock, not from this sign-in."""
    return time.strftime("before this sign-in, at %H:%M:%S UTC", time.gmtime(at))
