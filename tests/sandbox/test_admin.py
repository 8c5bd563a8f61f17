"""The admin API: guarded by a shared secret, hidden without one."""

from __future__ import annotations

import requests

from tests.sandbox.flow import SandboxBrowser, callback_of
from tests.services import ServiceProcess


def test_admin_needs_the_right_secret(base_url: str) -> None:
    for headers in ({}, {"X-Sandbox-Admin": "wrong"}, {"X-Sandbox-Admin": ""}):
        for method, path in (("POST", "/redirect-uris"), ("GET", "/faults")):
            response = requests.request(
                method, base_url + "/_sandbox" + path, headers=headers, json={}, timeout=5
            )
            assert response.status_code == 403
            assert response.json()["error"] == "forbidden"


def test_admin_is_hidden_without_a_secret(plain_sandbox: ServiceProcess) -> None:
    for headers in ({}, {"X-Sandbox-Admin": ""}):
        for path in ("/_sandbox/redirect-uris", "/_sandbox/clients"):
            response = requests.post(plain_sandbox.url + path, headers=headers, json={}, timeout=5)
            assert response.status_code == 404


def test_registered_redirect_uri_is_accepted_exactly(
    base_url: str, admin_headers: dict[str, str]
) -> None:
    browser = SandboxBrowser(base_url)
    uri = "http://127.0.0.1:61234/callback"
    before = browser.start(redirect_uri=uri)
    assert before.status_code == 400
    response = requests.post(
        base_url + "/_sandbox/redirect-uris",
        headers=admin_headers,
        json={"client_id": "demo-portal", "redirect_uri": uri},
        timeout=5,
    )
    assert response.status_code == 201
    page = browser.start(redirect_uri=uri, response_type="token")
    assert callback_of(page).location.startswith(uri + "?")
    other_client = browser.start(redirect_uri=uri, client_id="demo-readonly")
    assert other_client.status_code == 400


def test_redirect_uri_registration_validates(base_url: str, admin_headers: dict[str, str]) -> None:
    for body, field in (
        ({"client_id": "nobody", "redirect_uri": "http://x/cb"}, "client_id"),
        ({"client_id": "demo-portal", "redirect_uri": "javascript:alert(1)"}, "redirect_uri"),
        ({"client_id": "demo-portal", "redirect_uri": "http://x/cb#frag"}, "redirect_uri"),
        ({"client_id": "demo-portal"}, "redirect_uri"),
        (
            {"client_id": "demo-portal", "backchannel_logout_uri": "ftp://x/out"},
            "backchannel_logout_uri",
        ),
    ):
        response = requests.post(
            base_url + "/_sandbox/redirect-uris", headers=admin_headers, json=body, timeout=5
        )
        assert response.status_code == 400
        assert field in response.json()["fields"]
    not_json = requests.post(
        base_url + "/_sandbox/redirect-uris", headers=admin_headers, data="x", timeout=5
    )
    assert not_json.status_code == 400


def test_faults_are_refused_when_fault_injection_is_off(
    short_sandbox: ServiceProcess, admin_headers: dict[str, str]
) -> None:
    response = requests.post(
        short_sandbox.url + "/_sandbox/faults",
        headers=admin_headers,
        json={"target": "token", "kind": "error500"},
        timeout=5,
    )
    assert response.status_code == 404
    assert "SANDBOX_FAULTS" in response.json()["error_description"]
