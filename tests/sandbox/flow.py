"""Drive the sandbox's sign-in and consent pages with ``requests``, as a browser would.

Reusable by any test that needs an authorization code without a real browser::

    browser = SandboxBrowser(sandbox.url)
    callback = browser.authorize(username="alice", password="wonderland", scope="query_userinfo")
    callback.params["code"]

Redirects are followed only while they stay on the sandbox; the final redirect to the
client's ``redirect_uri`` is returned, never followed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import requests

DEMO_CLIENT = "demo-portal"
DEMO_SECRET = "demo+portal/secret=&%?#2026"
READONLY_CLIENT = "demo-readonly"
READONLY_SECRET = "readonly-secret-2026"
DEMO_REDIRECT = "http://127.0.0.1:5000/callback"
USERS = {"alice": "wonderland", "bob": "builder"}
TIMEOUT = 10


@dataclass
class Form:
    """One HTML form: where it posts, its fields and its submit buttons."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(action=values.get("action", "")))
        elif tag == "input" and self.forms and "name" in values:
            if values.get("type") == "submit":
                self.forms[-1].buttons[values["name"]] = values.get("value", "")
            else:
                self.forms[-1].fields[values["name"]] = values.get("value", "")


def forms_of(html: str) -> list[Form]:
    """Return every form on a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


@dataclass
class Callback:
    """The redirect back to the client: its URL and query parameters."""

    location: str
    params: dict[str, str]

    @property
    def code(self) -> str:
        """Return the authorization code; fail clearly if the redirect carries an error."""
        if "code" not in self.params:
            raise AssertionError(f"no code in the callback: {self.params}")
        return self.params["code"]


def authorize_params(**params: str) -> dict[str, str]:
    """Return a valid authorization request for the demo client, overridden by ``params``."""
    defaults = {
        "response_type": "code",
        "client_id": DEMO_CLIENT,
        "redirect_uri": DEMO_REDIRECT,
        "scope": "query_userinfo manage_flightreports",
        "state": "state-123",
    }
    return {**defaults, **params}


class SandboxBrowser:
    """A cookie jar that signs in to the sandbox and answers its consent page."""

    def __init__(self, base_url: str):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()

    def on_sandbox(self, url: str) -> bool:
        """Return whether ``url`` points at the sandbox itself."""
        return urlsplit(urljoin(self.base_url, url)).netloc == urlsplit(self.base_url).netloc

    def follow(self, response: requests.Response) -> requests.Response:
        """Follow redirects while they stay on the sandbox."""
        while response.is_redirect and self.on_sandbox(response.headers["Location"]):
            target = urljoin(response.url, response.headers["Location"])
            response = self.session.get(target, allow_redirects=False, timeout=TIMEOUT)
        return response

    def get(self, path: str, **params: str) -> requests.Response:
        """GET a sandbox page and follow its internal redirects."""
        url = self.base_url + path
        return self.follow(
            self.session.get(url, params=params, allow_redirects=False, timeout=TIMEOUT)
        )

    def start(self, path: str = "/oauth/v2/authorize", **params: str) -> requests.Response:
        """Send an authorization request; return the page shown or the redirect to the client."""
        return self.get(path, **authorize_params(**params))

    def submit(
        self, page: requests.Response, button: str | None = None, **values: str
    ) -> requests.Response:
        """Submit the page's form that has ``button`` (or its first form) with ``values``."""
        forms = forms_of(page.text)
        form = next((f for f in forms if button is None or button in f.buttons), None)
        if form is None:
            raise AssertionError(f"no form with button {button!r} on {page.url}")
        data = {**form.fields, **values}
        if button is not None:
            data[button] = form.buttons[button]
        url = urljoin(page.url, form.action)
        return self.follow(
            self.session.post(url, data=data, allow_redirects=False, timeout=TIMEOUT)
        )

    def sign_in(self, page: requests.Response, username: str, password: str) -> requests.Response:
        """Fill in the sign-in page."""
        return self.submit(page, username=username, password=password)

    def authorize(
        self,
        username: str = "alice",
        password: str | None = None,
        decision: str = "allow",
        path: str = "/oauth/v2/authorize",
        **params: str,
    ) -> Callback:
        """Run the whole flow (sign in and consent when asked) and return the callback."""
        response = self.start(path, **params)
        if "/sandbox/login" in response.url and not response.is_redirect:
            response = self.sign_in(response, username, password or USERS[username])
        if not response.is_redirect and forms_of(response.text):
            response = self.submit(response, button=decision)
        return callback_of(response)


def callback_of(response: requests.Response) -> Callback:
    """Return the redirect to the client that ``response`` must be."""
    if not response.is_redirect:
        raise AssertionError(f"expected a redirect to the client, got {response.status_code}")
    location = response.headers["Location"]
    return Callback(location, dict(parse_qsl(urlsplit(location).query)))
