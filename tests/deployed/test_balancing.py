"""Behind nginx's round robin over HTTPS, one browser session works on every instance."""

from __future__ import annotations

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.deployed.topology import DeployedPortal
from tests.oauth_driver import SandboxUser, parse_forms

pytestmark = pytest.mark.cluster

USERS = {"alice": "wonderland", "bob": "builder"}
PAGE_VIEWS = 12


def browser_for(portal: DeployedPortal) -> requests.Session:
    """Return an HTTP client that trusts the test certificate, as a browser would be told to."""
    browser = requests.Session()
    browser.verify = str(portal.nginx.certificate)
    browser.trust_env = False  # REQUESTS_CA_BUNDLE would replace the certificate given here
    return browser


def sign_in(portal: DeployedPortal, browser: requests.Session, username: str) -> None:
    """Sign in as a browser would, every request to the app going through nginx."""
    started = browser.get(portal.url + "/login", allow_redirects=False, timeout=10)
    assert started.status_code == 302, started.text[:300]
    person = SandboxUser(username, USERS[username])
    callback = person.authorize(started.headers["Location"], portal.url + "/callback")
    finished = browser.get(callback, allow_redirects=False, timeout=10)
    assert finished.status_code == 303, finished.text[:300]
    assert finished.headers["Location"].endswith("/flight-reports")


class FromAddress(HTTPAdapter):
    """Connect from another loopback address: to nginx, another client."""

    def __init__(self, address: str) -> None:
        self._address = address
        super().__init__()

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        kwargs["source_address"] = (self._address, 0)
        super().init_poolmanager(*args, **kwargs)  # type: ignore[arg-type]


def csrf_token(html: str) -> str:
    """Return the CSRF token of the page's sign-out form."""
    for form in parse_forms(html):
        if form.action.endswith("/logout"):
            return form.fields["csrf_token"]
    raise AssertionError("the page has no sign-out form")


def test_nginx_balances_between_both_instances(deployed: DeployedPortal) -> None:
    before = deployed.served_by("/readyz")
    for _ in range(6):
        assert requests.get(deployed.url + "/readyz", verify=str(deployed.nginx.certificate))
    after = deployed.served_by("/readyz")
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_one_sign_in_is_good_on_every_instance(deployed: DeployedPortal) -> None:
    browser = browser_for(deployed)
    sign_in(deployed, browser, "alice")
    assert browser.cookies.get("__Host-portal_session")

    before = deployed.served_by("/flight-reports")
    for _ in range(PAGE_VIEWS):
        page = browser.get(deployed.url + "/flight-reports", allow_redirects=False, timeout=10)
        assert page.status_code == 200, page.text[:300]
        assert "Sign out" in page.text
        assert "Thames at Reading bank survey" in page.text  # one of alice's seeded reports
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    after = deployed.served_by("/flight-reports")
    assert all(a > b for a, b in zip(after, before, strict=True)), (before, after)


def test_sign_out_through_nginx_ends_the_session_everywhere(deployed: DeployedPortal) -> None:
    browser = browser_for(deployed)
    sign_in(deployed, browser, "bob")
    page = browser.get(deployed.url + "/flight-reports", timeout=10)
    assert page.status_code == 200

    signed_out = browser.post(
        deployed.url + "/logout",
        data={"csrf_token": csrf_token(page.text)},
        headers={"Origin": deployed.url, "Referer": deployed.url + "/flight-reports"},
        allow_redirects=False,
        timeout=10,
    )

    assert signed_out.status_code == 303, signed_out.text[:300]
    before = deployed.served_by("/profile")
    for _ in range(4):
        after = browser.get(deployed.url + "/profile", allow_redirects=False, timeout=10)
        assert after.status_code == 401
    assert all(a > b for a, b in zip(deployed.served_by("/profile"), before, strict=True))


def test_plain_http_is_sent_to_https(deployed: DeployedPortal) -> None:
    plain = f"http://127.0.0.1:{deployed.nginx.http_port}/flight-reports?page=2"
    answer = requests.get(plain, allow_redirects=False, timeout=10)
    assert answer.status_code == 308
    assert answer.headers["Location"] == deployed.url + "/flight-reports?page=2"


def test_nginx_replaces_a_forwarded_scheme_or_address_sent_by_the_browser(
    deployed: DeployedPortal,
) -> None:
    # nginx sets X-Forwarded-Proto and -For itself and drops the other scheme headers, so a
    # browser can neither claim another address nor get refused by gunicorn for contradicting
    # scheme headers.
    answer = requests.get(
        deployed.url + "/healthz",
        headers={
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Ssl": "off",
            "X-Forwarded-For": "6.6.6.6",
        },
        verify=str(deployed.nginx.certificate),
        timeout=10,
    )
    assert answer.status_code == 200
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_internal_address_or_version_reaches_the_browser(deployed: DeployedPortal) -> None:
    answer = requests.get(deployed.url + "/", verify=str(deployed.nginx.certificate), timeout=10)
    upstream_ports = {str(instance.port) for instance in deployed.instances}
    headers = str(answer.headers)
    assert "X-Upstream" not in answer.headers
    assert not any(port in headers or port in answer.text for port in upstream_ports)
    assert answer.headers["Server"] == "nginx"  # server_tokens off: no version


def test_metrics_are_not_served_through_the_proxy(deployed: DeployedPortal) -> None:
    answer = requests.get(deployed.url + "/metrics", verify=str(deployed.nginx.certificate))
    assert answer.status_code == 404


def test_nginx_refuses_a_sign_in_flood_from_one_address_with_its_own_page(
    deployed: DeployedPortal,
) -> None:
    # From 127.0.0.2, so that the other tests' address keeps its allowance. The app's own
    # limit (20 a minute) answers first; nginx's (a burst of 30, then one a second) is the one
    # that spares the app the rest.
    flooder = browser_for(deployed)
    flooder.mount("https://", FromAddress("127.0.0.2"))
    answers = [
        flooder.get(deployed.url + "/login", allow_redirects=False, timeout=10) for _ in range(45)
    ]
    # Every answer from an instance carries its request id; nginx's own page does not.
    by_app = [a.status_code for a in answers if "X-Request-ID" in a.headers]
    by_nginx = [n for n, a in enumerate(answers) if "X-Request-ID" not in a.headers]
    assert by_app[:20] == [302] * 20 and set(by_app[20:]) == {429}
    assert by_nginx and 30 <= by_nginx[0] <= 36 and by_nginx == list(range(by_nginx[0], 45))
    for refused in (answers[n] for n in by_nginx):
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "60"
        assert "Too many sign-in attempts" in refused.text
    other = browser_for(deployed).get(deployed.url + "/login", allow_redirects=False, timeout=10)
    assert other.status_code == 302  # per address: everyone else still signs in
