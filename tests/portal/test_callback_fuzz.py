"""Malformed callbacks: a friendly 400 and no token request, whatever the query (checklist A)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.portal.conftest import token_requests
from tests.services import ServiceProcess

NAMES = st.sampled_from(["state", "code", "iss", "error", "error_description", "x", "state[]"])
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80)
# A query string as a browser could send it: known and unknown names, any text, repeats.
QUERIES = st.lists(st.tuples(NAMES, TEXT), max_size=6)
# Values that pass the shape checks, so that the comparisons behind them are reached too.
WELL_FORMED_STATES = st.from_regex(r"[A-Za-z0-9_-]{43}", fullmatch=True)
WELL_FORMED_ISSUERS = st.from_regex(r"https?://[\x21-\x7e]{1,60}", fullmatch=True)
FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def pending_state(client: object) -> str:
    started = client.get("/login")  # type: ignore[attr-defined]
    return parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]


@pytest.mark.parametrize(
    "query",
    [
        {"state": "é" * 43, "code": "abc"},
        {"state": "%C3%A9", "code": "abc"},
        {"state": "x" * 43 + "\x00", "code": "abc"},
        {"code": "é", "iss": "é"},
        {"code": "abc\x7f", "iss": "https://issuer"},
        {"code": "abc", "iss": "https://ïssuer.example"},
        {"error": "access_denied\n", "iss": "https://issuer"},
    ],
)
def test_non_ascii_or_control_characters_get_the_friendly_page(
    portal_app: Flask, sandbox: ServiceProcess, query: dict[str, str]
) -> None:
    client = portal_app.test_client()
    real_state = pending_state(client)
    query = {"state": real_state, **query}
    before = token_requests(sandbox, "authorization_code")
    response = client.get("/callback?" + urlencode(query))
    assert response.status_code == 400
    assert b"<h1" in response.data and b"Traceback" not in response.data
    assert token_requests(sandbox, "authorization_code") == before


@FUZZ
@given(query=QUERIES)
def test_any_query_without_a_pending_sign_in_is_a_4xx_and_no_token_request(
    portal_app: Flask, sandbox: ServiceProcess, query: list[tuple[str, str]]
) -> None:
    client = portal_app.test_client()
    before = token_requests(sandbox, "authorization_code")
    response = client.get("/callback?" + urlencode(query))
    assert 400 <= response.status_code < 500
    assert b"Traceback" not in response.data
    assert token_requests(sandbox, "authorization_code") == before


@FUZZ
@given(query=QUERIES, code=TEXT.filter(lambda c: not c.isascii() or not c.isprintable()))
def test_a_malformed_code_with_the_real_state_is_refused_before_the_token_request(
    portal_app: Flask, sandbox: ServiceProcess, query: list[tuple[str, str]], code: str
) -> None:
    client = portal_app.test_client()
    state = pending_state(client)
    before = token_requests(sandbox, "authorization_code")
    response = client.get("/callback?" + urlencode([*query, ("state", state), ("code", code)]))
    assert 400 <= response.status_code < 500
    assert b"Traceback" not in response.data
    assert token_requests(sandbox, "authorization_code") == before


@FUZZ
@given(state=TEXT | WELL_FORMED_STATES, iss=TEXT | WELL_FORMED_ISSUERS | st.none())
def test_any_other_state_with_a_well_formed_code_is_refused_before_the_token_request(
    portal_app: Flask, sandbox: ServiceProcess, state: str, iss: str | None
) -> None:
    client = portal_app.test_client()
    real_state = pending_state(client)
    query = [("state", state), ("code", "well-formed-code")]
    query += [("iss", iss)] if iss is not None else []
    before = token_requests(sandbox, "authorization_code")
    response = client.get("/callback?" + urlencode(query))
    if state == real_state:  # hypothesis will not find the real one; if it did, the rest holds
        return
    assert 400 <= response.status_code < 500
    assert b"Traceback" not in response.data
    assert token_requests(sandbox, "authorization_code") == before


@FUZZ
@given(iss=TEXT | WELL_FORMED_ISSUERS)
def test_any_other_issuer_with_the_real_state_is_refused_before_the_token_request(
    portal_app: Flask, sandbox: ServiceProcess, iss: str
) -> None:
    client = portal_app.test_client()
    state = pending_state(client)
    before = token_requests(sandbox, "authorization_code")
    query = [("state", state), ("code", "well-formed-code"), ("iss", iss)]
    response = client.get("/callback?" + urlencode(query))
    if iss.rstrip("/") == sandbox.url.rstrip("/"):  # the sandbox is its own issuer
        return
    assert 400 <= response.status_code < 500
    assert b"Traceback" not in response.data
    assert token_requests(sandbox, "authorization_code") == before
