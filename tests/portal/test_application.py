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
