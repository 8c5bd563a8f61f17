"""Drive the sandbox's sign-in and consent pages over HTTP like a person, without a browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # name, value, label
    has_password: bool = False


class FormParser(HTMLParser):
    """Collect the forms of a page with their inputs and submit buttons."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            if kind == "password":
                self.forms[-1].has_password = True
            if kind == "submit":
                self.forms[-1].buttons.append((a.get("name", ""), a.get("value", ""), ""))
            elif a.get("name") and kind not in ("checkbox", "radio") or "checked" in a:
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            self.forms[-1].buttons.append(tuple(self._button))  # type: ignore[arg-type]
            self._button = None


def parse_forms(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


class SandboxUser:
    """A person at the sandbox: signs in with a password and answers the consent page."""

    def __init__(self, username: str, password: str, http: requests.Session | None = None) -> None:
        self.username = username
        self.password = password
        self.http = http or requests.Session()

    def authorize(self, url: str, redirect_uri: str, decision: str = "allow") -> str:
        """Follow ``url`` through sign-in and consent; return the URL sent back to the client."""
        for _ in range(10):
            if url.startswith(redirect_uri):
                return url
            response = self.http.get(url, allow_redirects=False, timeout=10)
            while response.status_code in (200, 400, 401) and "<form" in response.text:
                response = self._submit(response, decision)
                if response.status_code not in (301, 302, 303):
                    break
            if response.status_code not in (301, 302, 303):
                raise AssertionError(
                    f"sandbox answered {response.status_code}: {response.text[:500]}"
                )
            url = urljoin(response.url, response.headers["Location"])
        raise AssertionError("too many redirects at the sandbox")

    def _submit(self, response: requests.Response, decision: str) -> requests.Response:
        forms = [f for f in parse_forms(response.text) if f.method == "post"]
        if not forms:
            raise AssertionError(f"no form on {response.url}")
        form = next((f for f in forms if f.has_password), None) or _consent_form(forms, decision)
        data = dict(form.fields)
        if form.has_password:
            data.update(username=self.username, password=self.password)
        name, value = _button(form, decision if not form.has_password else "")
        if name:
            data[name] = value
        target = urljoin(response.url, form.action or response.url)
        return self.http.post(target, data=data, allow_redirects=False, timeout=10)


def _consent_form(forms: list[Form], decision: str) -> Form:
    for form in forms:
        if any(decision in (label + value).lower() for _, value, label in form.buttons):
            return form
    return forms[0]


def _button(form: Form, decision: str) -> tuple[str, str]:
    for name, value, label in form.buttons:
        if not decision or decision in (label + value).lower():
            return name, value
    return ("", "")


USERS = {"alice": "wonderland", "bob": "builder"}


def sign_in_over_http(
    app_url: str, username: str = "alice", next_path: str | None = None
) -> requests.Session:
    """Sign in to an app served over HTTP; return the browser-like session holding its cookie."""
    browser = requests.Session()
    params = {"next": next_path} if next_path else {}
    started = browser.get(app_url + "/login", params=params, allow_redirects=False, timeout=10)
    assert started.status_code == 302, started.text[:300]
    person = SandboxUser(username, USERS[username])
    callback = person.authorize(started.headers["Location"], app_url + "/callback")
    finished = browser.get(callback, allow_redirects=False, timeout=10)
    assert finished.status_code == 303, finished.text[:300]
    return browser


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    return html.split('name="csrf_token" value="')[1].split('"')[0]
