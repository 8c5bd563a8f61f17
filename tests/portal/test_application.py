"""PortalFlask asks Flask once whether a plain function is a coroutine function."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from portal import application
from portal.application import PortalFlask


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The functions Flask's ensure_sync asks about, in order."""
    seen: list[Any] = []

    def iscoroutinefunction(func: Any) -> bool:
        seen.append(func)
        return inspect.iscoroutinefunction(func)

    monkeypatch.setattr("flask.app.iscoroutinefunction", iscoroutinefunction)
    return seen


def test_a_plain_function_is_handed_back_and_asked_about_once(asked: list[Any]) -> None:
    app = PortalFlask(__name__)

    def hook() -> None:
        return None

    assert app.ensure_sync(hook) is hook
    assert app.ensure_sync(hook) is hook
    assert asked == [hook]


def test_a_coroutine_function_is_given_to_flask_each_time(asked: list[Any]) -> None:
    app = PortalFlask(__name__)
    wrapped: list[Any] = []
    app.async_to_sync = lambda func: wrapped.append(func) or (lambda: "ran")  # type: ignore[method-assign]

    async def view() -> str:
        return "ran"

    assert app.ensure_sync(view)() == "ran"
    assert app.ensure_sync(view)() == "ran"
    assert asked == [view, view]
    assert wrapped == [view, view]


def test_an_unhashable_callable_is_asked_about_every_time(asked: list[Any]) -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self) -> str:
            return "ran"

    app = PortalFlask(__name__)
    func = Unhashable()
    assert app.ensure_sync(func) is func
    assert app.ensure_sync(func) is func
    assert asked == [func, func]


def test_what_is_remembered_is_bounded(asked: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(application, "KNOWN_AT_MOST", 2)
    app = PortalFlask(__name__)
    funcs = [lambda: None for _ in range(3)]
    for func in funcs * 2:
        assert app.ensure_sync(func) is func
    assert asked == [*funcs, funcs[2]]


def test_the_portal_is_a_portal_flask(portal_app: Any) -> None:
    assert isinstance(portal_app, PortalFlask)


def test_a_blueprints_templates_get_the_default_context_from_the_apps_processor() -> None:
    from flask import Blueprint, g, render_template_string
    from flask.templating import _default_template_ctx_processor

    app = PortalFlask(__name__)
    app.secret_key = "test-secret-key"
    bp = Blueprint("pages", __name__)

    @bp.get("/page")
    def page() -> str:
        g.seen = "yes"
        return render_template_string("{{ g.seen }} {{ request.path }} {{ session.get('x', '-') }}")

    app.register_blueprint(bp)
    assert _default_template_ctx_processor not in app.template_context_processors["pages"]
    assert app.template_context_processors[None] == [_default_template_ctx_processor]
    assert app.test_client().get("/page").text == "yes /page -"


def test_a_renders_context_is_flasks_processors_innermost_blueprint_last_view_first() -> None:
    from flask import Blueprint, Flask, render_template_string

    template = "{{ who }} {{ outer }} {{ inner }} {{ given }}"
    answers = []
    for kind in (Flask, PortalFlask):
        app = kind(__name__)
        outer, inner = Blueprint("outer", __name__), Blueprint("inner", __name__)
        app.context_processor(lambda: {"who": "app", "outer": "app", "inner": "app"})
        outer.context_processor(lambda: {"who": "outer", "outer": "outer", "inner": "outer"})
        inner.context_processor(lambda: {"who": "inner", "given": "inner"})

        @inner.get("/page")
        def page() -> str:
            return render_template_string(template, given="view")

        outer.register_blueprint(inner, url_prefix="/inner")
        app.register_blueprint(outer, url_prefix="/outer")
        app.add_url_rule("/plain", "plain", lambda: render_template_string(template, given="-"))
        with app.app_context():  # outside a request: the app's processors only
            outside = render_template_string(template, given="-")
        client = app.test_client()
        answers.append((client.get("/outer/inner/page").text, client.get("/plain").text, outside))
    assert answers[0] == answers[1] == ("inner outer outer view", "app app app -", "app app app -")


def test_the_hooks_around_a_view_run_as_flasks_do() -> None:
    from flask import Flask

    flasks, portals = hooks_run(Flask), hooks_run(PortalFlask)
    assert flasks == portals
    assert flasks[0] == (
        "hello",
        True,  # the session saved
        [
            "app-url pages.page",
            "bp-url {'part': 'hello'}",
            "app-before",
            "bp-before",
            "this-request",
            "bp-1",
            "app-2",
            "app-1",
        ],
    )
    assert flasks[1][0] == "stopped"


def hooks_run(kind: type[Any]) -> list[tuple[str, bool, list[str]]]:
    """What an app of ``kind`` runs, in order, around a view; then with a hook answering."""
    from flask import Blueprint, after_this_request, session

    seen: list[str] = []
    app = kind(__name__)
    app.secret_key = "test-secret-key"
    bp = Blueprint("pages", __name__)
    app.url_value_preprocessor(lambda endpoint, values: seen.append(f"app-url {endpoint}"))
    bp.url_value_preprocessor(lambda endpoint, values: seen.append(f"bp-url {values}"))
    app.before_request(lambda: seen.append("app-before") and None)
    bp.before_request(lambda: seen.append("bp-before") and None)
    bp.before_request(lambda: "stopped" if "stop" in seen[0] else None)
    for where, name in ((app, "app-1"), (app, "app-2"), (bp, "bp-1")):
        where.after_request(lambda r, name=name: seen.append(name) or r)

    @bp.get("/<part>")
    def page(part: str) -> str:
        session["part"] = part
        after_this_request(lambda r: seen.append("this-request") or r)
        return part

    app.register_blueprint(bp)
    client = app.test_client()
    runs = []
    for path in ("/hello", "/stop"):
        seen[:] = ["stop"] if path == "/stop" else []  # the third before-request hook answers
        answer = client.get(path)
        runs.append((answer.text, "Set-Cookie" in answer.headers, list(seen)))
    return runs
