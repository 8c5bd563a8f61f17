"""The `next` parameter: only same-origin paths to the app's own pages survive (checklist A.10)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import ada_url
import pytest
from flask import Flask

from flask_altitudeangel._signin.redirects import safe_next

DEFAULT_NEXT = "/flight-reports"


def safe(value: str) -> str:
    return safe_next(value, DEFAULT_NEXT, "altitudeangel")


# oauth2-proxy's corpus, MIT licence: see tests/data/oauth2-proxy/README.md.
CORPUS = Path(__file__).resolve().parents[1] / "data" / "oauth2-proxy" / "openredirects.txt"


def corpus() -> list[str]:
    """Return every payload as written and, as oauth2-proxy tests it, URL-unescaped."""
    lines = CORPUS.read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    payloads = [line for line in lines if line.strip()]
    return list(dict.fromkeys([*payloads, *(unquote(p) for p in payloads)]))


def test_the_corpus_is_there() -> None:
    assert len(corpus()) >= 558


def test_every_open_redirect_payload_stays_on_this_origin(portal_app: Flask) -> None:
    base = "https://portal.example/flight-reports"
    with portal_app.test_request_context():
        for payload in corpus():
            target = safe(payload)
            # Resolved as a browser would (WHATWG URL): "\\" is "/", tabs and newlines vanish.
            resolved = ada_url.URL(ada_url.join_url(base, target))
            assert resolved.host == "portal.example", payload
            assert resolved.protocol == "https:", payload
            assert target.startswith("/") and not target.startswith(("//", "/\\")), payload


@pytest.mark.parametrize(
    "payload",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "/%2F%2Fevil",
        "/login?next=//evil.example",
        "/callback",
        "/\t/evil.example",
        "",
    ],
)
def test_named_attacks_fall_back_to_the_default(portal_app: Flask, payload: str) -> None:
    with portal_app.test_request_context():
        assert safe(payload) == DEFAULT_NEXT


@pytest.mark.parametrize(
    "path", ["/flight-reports", "/flight-reports?page=2", "/flight-reports/fr_123", "/profile"]
)
def test_the_apps_own_pages_are_kept(portal_app: Flask, path: str) -> None:
    with portal_app.test_request_context():
        assert safe(path) == path
