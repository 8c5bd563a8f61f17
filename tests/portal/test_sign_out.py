"""Sign-out means signed out: where it sends the browser, what it says, and cross-site posts."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

from app import create_app
from tests.portal.conftest import SignIn, app_environment
from tests.services import RedisServer, ServiceProcess

OWN_ORIGIN = "http://localhost:5000"  # the origin of the conftest's AA_REDIRECT_URI


def csrf_token(client: FlaskClient) -> str:
    page = client.get("/flight-reports")
    return page.data.split(b'name="csrf_token" value="')[1].split(b'"')[0].decode()


def test_without_an_end_session_endpoint_sign_out_says_the_platform_session_lives_on(
    redis_server: RedisServer, sandbox: ServiceProcess, sign_in: SignIn
) -> None:
    # As against the real platform, which documents none; an empty setting beats discovery.
    app = create_app(app_environment(redis_server, sandbox, AA_END_SESSION_URL=""))
    client = app.test_client()
    sign_in(client)
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/signed-out"

    page = client.get("/signed-out").get_data(as_text=True)
    assert "You are signed out" in page
    assert "was not ended" in page and "offers apps no way to end it" in page


def test_with_an_end_session_endpoint_sign_out_goes_there_and_comes_back(
    redis_server: RedisServer, sandbox: ServiceProcess, sign_in: SignIn
) -> None:
    end_session = sandbox.url + "/oauth/v2/logout"
    app = create_app(app_environment(redis_server, sandbox, AA_END_SESSION_URL=end_session))
    client = app.test_client()
    sign_in(client)

    response = client.post("/logout", data={"csrf_token": csrf_token(client)})

    assert response.status_code == 303
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == end_session
    query = parse_qs(location.query)
    assert query["client_id"] == ["demo-portal"]
    assert query["post_logout_redirect_uri"] == [OWN_ORIGIN + "/signed-out"]
    came_back = client.get("/signed-out", query_string={"state": query["state"][0]})
    assert "has ended too" in came_back.get_data(as_text=True)
    assert "form-action 'self' " + sandbox.url in came_back.headers["Content-Security-Policy"]


def test_another_browsers_end_session_state_does_not_claim_the_platform_session_ended(
    redis_server: RedisServer, sandbox: ServiceProcess, sign_in: SignIn
) -> None:
    end_session = sandbox.url + "/oauth/v2/logout"
    app = create_app(app_environment(redis_server, sandbox, AA_END_SESSION_URL=end_session))
    leaving, staying = app.test_client(), app.test_client()
    sign_in(leaving)
    sign_in(staying, "bob")
    response = leaving.post("/logout", data={"csrf_token": csrf_token(leaving)})
    state = parse_qs(urlsplit(response.headers["Location"]).query)["state"][0]

    lured = staying.get("/signed-out", query_string={"state": state}).get_data(as_text=True)
    assert "has ended too" not in lured and "You are still signed in" in lured
    elsewhere = app.test_client()  # signed out here, perhaps still signed in at the platform
    lured = elsewhere.get("/signed-out", query_string={"state": state}).get_data(as_text=True)
    assert "has ended too" not in lured and "was not ended" in lured
    came_back = leaving.get("/signed-out", query_string={"state": state})
    assert "has ended too" in came_back.get_data(as_text=True)


def test_a_forged_or_missing_state_does_not_claim_the_platform_session_ended(
    redis_server: RedisServer, sandbox: ServiceProcess
) -> None:
    end_session = sandbox.url + "/oauth/v2/logout"
    app = create_app(app_environment(redis_server, sandbox, AA_END_SESSION_URL=end_session))
    client = app.test_client()
    for query in ({}, {"state": "forged"}, {"state": "é" * 300}):
        page = client.get("/signed-out", query_string=query)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "was not ended" in text and "Sign out of Altitude Angel too" in text
        # The page stores nothing: no session, only the cookie its end-session link is bound to.
        assert "portal_session" not in page.headers.get("Set-Cookie", "")


def test_after_sign_out_a_page_asks_for_a_click_instead_of_signing_in_again(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client)
    client.post("/logout", data={"csrf_token": csrf_token(client)})

    response = client.get("/flight-reports")

    assert response.status_code == 401
    assert "Location" not in response.headers
    assert b'href="/login?next=/flight-reports"' in response.data


def test_a_post_from_another_origin_is_refused_even_with_the_token(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client)
    token = csrf_token(client)
    for origin in ("https://evil.example", "null", "http://localhost:5001"):
        refused = client.post("/logout", data={"csrf_token": token}, headers={"Origin": origin})
        assert refused.status_code == 400, origin
        assert client.get("/profile").status_code == 200

    accepted = client.post("/logout", data={"csrf_token": token}, headers={"Origin": OWN_ORIGIN})
    assert accepted.status_code == 303
    assert client.get("/profile").status_code == 401


def test_the_site_icon_is_served_and_linked(client: FlaskClient) -> None:
    with client.get("/favicon.ico") as icon:
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b'rel="icon"' in client.get("/").data


def test_a_post_with_no_token_and_no_origin_is_refused(
    client: FlaskClient, sign_in: SignIn
) -> None:
    # The Origin check passes a post without Origin (older browsers, privacy proxies): the
    # CSRF token is what refuses it, and nothing else may be relied on to.
    sign_in(client)
    refused = client.post("/logout", data={})
    assert refused.status_code == 400
    assert "Origin" not in refused.request.headers
    assert client.get("/flight-reports").status_code == 200  # still signed in


def test_a_signed_in_visit_to_the_signed_out_page_does_not_claim_a_sign_out(
    client: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client)

    page = client.get("/signed-out").get_data(as_text=True)

    assert "You are still signed in" in page and "You are signed out" not in page
    assert client.get("/flight-reports").status_code == 200  # and nothing was ended
