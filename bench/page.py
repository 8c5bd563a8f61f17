"""What the baseline and the peer need to render the app's own flight reports page.

The page's templates link to the app's other pages by endpoint name; these apps register the
same names and paths (answering nothing) so ``url_for`` builds the same links.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from portal import templating

ROOT = Path(__file__).resolve().parent.parent
PAGE = "flights/index.html"
PER_PAGE = 10
SESSION_COOKIE = "portal_session"

LINKED_PAGES = {
    "flights.new": "/flight-reports/new",
    "flights.show": "/flight-reports/<flight_id>",
    "account.profile": "/profile",
    "account.session_info": "/session",
    "flow.show": "/flow",
    "altitudeangel.logout": "/logout",
}

# The headers the app sends with every page, precomputed once.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def page_app(name: str) -> Flask:
    """Return a Flask app that finds the app's templates and static files, and what they call."""
    app = Flask(name, template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    templating.init_app(app)
    return app


def link_pages(app: Flask, skip: tuple[str, ...] = ()) -> None:
    """Register the endpoints the page links to, except those the app serves itself."""
    for endpoint, rule in LINKED_PAGES.items():
        if endpoint not in skip:
            app.add_url_rule(rule, endpoint, _not_served)


def content_security_policy(auth_url: str) -> str:
    return (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; "
        f"form-action 'self' {auth_url}; "
        "frame-ancestors 'none'; object-src 'none'; base-uri 'none'"
    )


def _not_served() -> tuple[str, int]:
    return "not part of the benchmark\n", 404
