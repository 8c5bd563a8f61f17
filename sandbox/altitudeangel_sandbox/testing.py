"""Test an app against the sandbox: start one, and sign a demo user in without a browser.

Nothing here needs pytest: ``running_sandbox()`` serves a script as well as the fixture does.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from altitudeangel_sandbox.processes import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    SANDBOX_HEALTH_PATH,
    RedisServer,
    admin_call,
    sandbox_process,
)

USERS = {"alice": "wonderland", "bob": "builder"}
SANDBOX_DB = 0  # the sandbox's own state; an app under test takes another database


@dataclass
class Sandbox:
    """A running sandbox: where it is, its Redis, its mode and the demo client's credentials."""

    url: str
    admin_secret: str
    redis: RedisServer
    mode: str = "aa"
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    users: dict[str, str] = field(default_factory=lambda: dict(USERS))

    @cached_property
    def metadata(self) -> dict[str, Any]:
        """Return the sandbox's RFC 8414 metadata, read once; empty in ``aa-public`` mode.

        The platform publishes none, so neither does the sandbox when it plays the platform.
        """
        url = self.url + SANDBOX_HEALTH_PATH
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  # nosec B310
                document: dict[str, Any] = json.load(response)
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            return {}
        return document

    @property
    def authorize_url(self) -> str:
        return self._endpoint("authorization_endpoint", "/oauth/v2/authorize")

    @property
    def token_url(self) -> str:
        return self._endpoint("token_endpoint", "/oauth/v2/token")

    @property
    def userprofile_url(self) -> str:
        return self._endpoint("userinfo_endpoint", "/userProfile")

    def _endpoint(self, name: str, platform_path: str) -> str:
        return str(self.metadata.get(name) or self.url + platform_path)

    def redis_url(self, db: int = 1) -> str:
        """Return a URL of the sandbox's redis-server for an app's own data (not database 0)."""
        if db == SANDBOX_DB:
            raise ValueError(f"database {SANDBOX_DB} holds the sandbox's own state")
        return self.redis.database_url(db)

    def register_redirect_uri(
        self,
        redirect_uri: str,
        post_logout_redirect_uri: str = "",
        backchannel_logout_uri: str = "",
    ) -> None:
        """Let the demo client use your app's callback (and sign-out URIs) on any port."""
        body: dict[str, str] = {"client_id": self.client_id, "redirect_uri": redirect_uri}
        if post_logout_redirect_uri:
            body["post_logout_redirect_uri"] = post_logout_redirect_uri
        if backchannel_logout_uri:
            body["backchannel_logout_uri"] = backchannel_logout_uri
        admin_call(self.url, self.admin_secret, "POST", "/_sandbox/redirect-uris", body)

    def sign_in(
        self, app_url: str, username: str = "alice", next_path: str | None = None
    ) -> requests.Session:
        """Sign ``username`` in to the app at ``app_url``; return the session with its cookie."""
        return sign_in_over_http(app_url, username, next_path, password=self.users[username])


@contextmanager
def running_sandbox(mode: str = "aa", **settings: str) -> Iterator[Sandbox]:
    """Run a redis-server and the sandbox in ``mode`` until the block ends.

    ``mode`` is ``aa``, ``aa-public`` or ``generic`` (the sandbox's ``SANDBOX_MODE``);
    ``settings`` are more ``SANDBOX_*`` variables.
    """
    with ExitStack() as cleanup:
        directory = Path(tempfile.mkdtemp(prefix="altitudeangel-sandbox-"))
        redis = RedisServer(directory=directory)
        cleanup.callback(redis.cleanup)
        redis.start()
        admin_secret = "sandbox-admin-" + os.urandom(8).hex()
        service = sandbox_process(
            redis.database_url(SANDBOX_DB), admin_secret, SANDBOX_MODE=mode, **settings
        )
        service.log_path = directory / "sandbox.log"
        cleanup.callback(service.stop)
        service.start()
        yield Sandbox(service.url, admin_secret, redis, mode)


@dataclass
class Form:
    """One HTML form: where it posts, its fields and its submit buttons."""

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
            self._input(a)
        elif tag == "button":
            self._button = [a.get("name", ""), a.get("value", ""), ""]

    def _input(self, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if kind == "password":
            self.forms[-1].has_password = True
        if kind == "submit":
            self.forms[-1].buttons.append((a.get("name", ""), a.get("value", ""), ""))
        elif a.get("name") and kind not in ("checkbox", "radio") or "checked" in a:
            self.forms[-1].fields[a["name"]] = a.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button[2] += data.strip()

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            name, value, label = self._button
            self.forms[-1].buttons.append((name, value, label))
            self._button = None


def parse_forms(html: str) -> list[Form]:
    """Return the forms of an HTML page."""
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


def sign_in_over_http(
    app_url: str,
    username: str = "alice",
    next_path: str | None = None,
    *,
    password: str | None = None,
) -> requests.Session:
    """Sign in to an app on the extension served over HTTP; return the session holding its cookie.

    The app's ``/login`` must send the browser to the sandbox and its ``/callback`` be registered.
    """
    browser = requests.Session()
    params = {"next": next_path} if next_path else {}
    started = browser.get(app_url + "/login", params=params, allow_redirects=False, timeout=10)
    if started.status_code != 302:
        raise AssertionError(f"/login answered {started.status_code}: {started.text[:300]}")
    person = SandboxUser(username, password or USERS[username])
    callback = person.authorize(started.headers["Location"], app_url + "/callback")
    finished = browser.get(callback, allow_redirects=False, timeout=10)
    if finished.status_code != 303:
        raise AssertionError(f"/callback answered {finished.status_code}: {finished.text[:300]}")
    return browser
