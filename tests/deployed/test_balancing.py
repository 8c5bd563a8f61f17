"""Behind nginx's round robin, one browser session works on every instance: state is in Redis."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from tests.cluster.conftest import USERS, BalancedPortal
from tests.oauth_driver import SandboxUser, parse_forms

pytestmark = pytest.mark.cluster

PAGE_VIEWS = 12


def sign_in(portal: BalancedPortal, browser: requests.Session, username: str) -> None:
    """Sign in as a browser would, every request to the app going through nginx."""
    started = browser.get(portal.url + "/login", allow_redirects=False, timeout=10)
    assert started.status_code == 302, started.text[:300]
    person = SandboxUser(username, USERS[username])
    callback = person.authorize(started.headers["Location"], portal.redirect_uri)
    finished = browser.get(callback, allow_redirects=False, timeout=10)
    assert finished.status_code == 303, finished.text[:300]
    assert finished.headers["Location"].endswith("/flight-reports")


def csrf_token(html: str) -> str:
    """Return the CSRF token of the page's sign-out form."""
    for form in parse_forms(html):
        if form.action.endswith("/logout"):
            return form.fields["csrf_token"]
    raise AssertionError("the page has no sign-out form")


def test_nginx_balances_between_both_instances(balanced_portal: BalancedPortal) -> None:
    served = Counter(
        requests.get(balanced_portal.url + "/healthz", timeout=5).headers["X-Upstream"]
        for _ in range(6)
    )

    assert set(served) == balanced_portal.upstreams()


def test_one_sign_in_is_good_on_every_instance(balanced_portal: BalancedPortal) -> None:
    browser = requests.Session()
    sign_in(balanced_portal, browser, "alice")

    served: Counter[str] = Counter()
    for _ in range(PAGE_VIEWS):
        page = browser.get(
            balanced_portal.url + "/flight-reports", allow_redirects=False, timeout=10
        )
        assert page.status_code == 200, page.text[:300]
        assert "Sign out" in page.text
        assert "Thames at Reading bank survey" in page.text  # one of alice's seeded reports
        served[page.headers["X-Upstream"]] += 1

    assert set(served) == balanced_portal.upstreams(), served


def test_sign_out_through_nginx_ends_the_session_everywhere(
    balanced_portal: BalancedPortal,
) -> None:
    browser = requests.Session()
    sign_in(balanced_portal, browser, "bob")
    page = browser.get(balanced_portal.url + "/flight-reports", timeout=10)
    assert page.status_code == 200

    signed_out = browser.post(
        balanced_portal.url + "/logout",
        data={"csrf_token": csrf_token(page.text)},
        allow_redirects=False,
        timeout=10,
    )

    assert signed_out.status_code == 303, signed_out.text[:300]
    served = set()
    for _ in range(4):
        after = browser.get(
            balanced_portal.url + "/flight-reports", allow_redirects=False, timeout=10
        )
        assert after.status_code == 303
        assert "/login" in after.headers["Location"]
        served.add(after.headers["X-Upstream"])
    assert served == balanced_portal.upstreams()


def test_nginx_replaces_a_forwarded_scheme_sent_by_the_browser(
    balanced_portal: BalancedPortal,
) -> None:
    # nginx sets X-Forwarded-Proto from its own scheme and drops the other scheme headers, so a
    # browser can neither make plain HTTP look like HTTPS to the app (which would then send
    # HSTS) nor get refused by gunicorn for contradicting scheme headers.
    started = requests.get(
        balanced_portal.url + "/login",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"},
        allow_redirects=False,
        timeout=10,
    )

    assert started.status_code == 302
    assert "Strict-Transport-Security" not in started.headers
