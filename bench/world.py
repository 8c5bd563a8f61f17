"""The services most scenarios share, started once: Redis, the sandbox, the API upstream, the
app, the baseline, the floor and the peer, each with a signed-in user; the app with DPoP-bound
tokens when a scenario first asks for it."""

from __future__ import annotations

from dataclasses import dataclass, field

import requests

from altitudeangel_sandbox.processes import (
    DEMO_CLIENT_SECRET,
    RedisServer,
    ServiceProcess,
    free_port,
)
from altitudeangel_sandbox.testing import sign_in_over_http
from bench import flows
from bench.page import PER_PAGE
from bench.services import (
    APP_MODULE,
    BASELINE_MODULE,
    FLOOR_MODULE,
    PEER_MODULE,
    SECRET_KEY,
    Stack,
    StaticUpstream,
    portal_env,
    register_redirect_uri,
)

PAGE = "/flight-reports"
WORKERS = 2  # gunicorn.conf.py's default: one per core of this machine


@dataclass
class SignedIn:
    """A service and the cookie of a user signed in to it."""

    service: ServiceProcess
    cookie: str

    @property
    def page(self) -> str:
        return self.service.url + PAGE


@dataclass
class World:
    stack: Stack
    app_redis: RedisServer
    peer_redis: RedisServer
    sandbox: ServiceProcess
    upstream: StaticUpstream
    app_env: dict[str, str]
    app: SignedIn
    baseline: SignedIn
    floor: SignedIn
    peer: SignedIn
    _dpop: list[SignedIn] = field(default_factory=list)

    def app_dpop(self) -> SignedIn:
        """The app with DPoP-bound tokens (AA_DPOP=1), signed in; started on first use."""
        if not self._dpop:
            bound = self.start_app(AA_DPOP="1")
            self._dpop.append(SignedIn(bound, signed_in_cookie(bound)))
        return self._dpop[0]

    def start_app(self, workers: int = WORKERS, **env: str) -> ServiceProcess:
        """Start one more app instance like the main one (same Redis, sandbox and API)."""
        return self.app_service(workers, **env).start()

    def app_service(self, workers: int = WORKERS, **env: str) -> ServiceProcess:
        """Describe one more app instance like the main one, with its own callback URL."""
        port = free_port()
        settings = {**self.app_env, **env}
        settings["AA_REDIRECT_URI"] = f"http://127.0.0.1:{port}/callback"
        register_redirect_uri(self.sandbox, settings["AA_REDIRECT_URI"])
        return self.stack.gunicorn_unstarted(APP_MODULE, settings, workers, port)


def build_world(stack: Stack) -> World:
    sandbox_redis, app_redis, peer_redis = stack.redis(), stack.redis(), stack.redis()
    sandbox = stack.sandbox(sandbox_redis)
    token = flows.user_token(sandbox)
    # A full page of rows and a second page, as a user with a season of flights sees it.
    flows.file_reports(sandbox, token["access_token"], 2 * PER_PAGE)
    upstream = stack.upstream(flows.report_page_body(sandbox, token["access_token"]))
    port = free_port()
    app_env = portal_env(
        app_redis,
        sandbox,
        f"http://127.0.0.1:{port}/callback",
        AA_API_URL=upstream.url,
        FLOW_TRACE="0",
        # Bearer tokens, as the baseline and the peer use: DPoP is measured on its own.
        AA_DPOP="0",
    )
    baseline_env = {
        "REDIS_URL": app_redis.url,
        "SECRET_KEY": SECRET_KEY,
        "AA_API_URL": upstream.url,
        "AA_AUTH_URL": sandbox.url,
    }
    app, baseline, floor, peer = stack.start_all(
        [
            stack.gunicorn_unstarted(APP_MODULE, app_env, WORKERS, port),
            stack.gunicorn_unstarted(BASELINE_MODULE, baseline_env, WORKERS),
            stack.gunicorn_unstarted(FLOOR_MODULE, baseline_env, WORKERS),
            peer_service(stack, peer_redis, sandbox, upstream.url, WORKERS),
        ]
    )
    app_cookie = signed_in_cookie(app)
    return World(
        stack=stack,
        app_redis=app_redis,
        peer_redis=peer_redis,
        sandbox=sandbox,
        upstream=upstream,
        app_env=app_env,
        app=SignedIn(app, app_cookie),
        baseline=SignedIn(baseline, app_cookie),  # reads the app's session and tokens
        floor=SignedIn(floor, app_cookie),  # so does the floor
        peer=SignedIn(peer, signed_in_cookie(peer)),
    )


def peer_service(
    stack: Stack,
    redis: RedisServer,
    sandbox: ServiceProcess,
    api_url: str,
    workers: int,
    port: int | None = None,
    leeway: int = 60,
) -> ServiceProcess:
    """Describe the Authlib + Flask-Session peer, its callback registered at the sandbox."""
    port = port or free_port()
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    register_redirect_uri(sandbox, redirect_uri)
    env = {
        "REDIS_URL": redis.url,
        "SECRET_KEY": SECRET_KEY,
        "PEER_AUTH_URL": sandbox.url,
        "PEER_API_URL": api_url,
        "PEER_CLIENT_ID": "demo-portal",
        "PEER_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "PEER_REDIRECT_URI": redirect_uri,
        "PEER_REFRESH_LEEWAY": str(leeway),
    }
    return stack.gunicorn_unstarted(PEER_MODULE, env, workers, port)


def signed_in_cookie(service: ServiceProcess, username: str = "alice") -> str:
    """Sign in, view the page once (as the browser does after the callback), return the cookie."""
    browser = sign_in_over_http(service.url, username)
    first = browser.get(service.url + PAGE, allow_redirects=False, timeout=10)
    check_page(first)
    return flows.cookie_header(browser)


def check_page(answer: requests.Response) -> None:
    if answer.status_code != 200 or "Your flight reports" not in answer.text:
        raise RuntimeError(f"the signed-in page answered {answer.status_code}: {answer.text[:300]}")
