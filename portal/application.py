"""The portal's Flask: asking once whether a function is a coroutine function, each render's
default template context given once, and the request read once, not through its proxy, for
the hooks around a view and a render's context."""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from flask import Flask, Response, has_request_context, request
from flask.globals import request_ctx
from flask.sansio.blueprints import Blueprint
from flask.templating import _default_template_ctx_processor

KNOWN_AT_MOST = 1024  # functions remembered as plain: the app registers a few dozen


class PortalFlask(Flask):
    """Flask, remembering which hooks, context processors, views and handlers are plain.

    Flask runs each of them through ``ensure_sync``, and so ``inspect.iscoroutinefunction``,
    every time it calls one: nine times a page view, ~50,000 instructions, for an answer that
    does not change. A plain function is remembered and handed back as Flask hands it back; a
    coroutine function is wrapped by Flask on every call, as before.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain: set[Callable[..., Any]] = set()

    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Register ``blueprint``, without Flask's default context processor a second time.

        Every blueprint brings one (``g``, ``request`` and ``session`` for its templates), run
        after the app's own on each render of one of its views: the app's has given the same.
        """
        super().register_blueprint(blueprint, **options)
        processors = self.template_context_processors
        if _default_template_ctx_processor not in processors[None]:
            return
        for name, given in processors.items():
            if name is not None:
                given[:] = [f for f in given if f is not _default_template_ctx_processor]

    def preprocess_request(self) -> Any:
        """Run the URL value preprocessors, then the before-request hooks, as Flask does.

        The request itself, read once: Flask reads it through its proxy for its blueprints,
        and again for each URL value preprocessor (~8,000 instructions a read).
        """
        asked = request._get_current_object()  # type: ignore[attr-defined]
        names = (None, *reversed(asked.blueprints))
        for name in names:
            for url_func in self.url_value_preprocessors.get(name, ()):
                url_func(asked.endpoint, asked.view_args)
        for name in names:
            for before_func in self.before_request_funcs.get(name, ()):
                answer = self.ensure_sync(before_func)()
                if answer is not None:
                    return answer
        return None

    def process_response(self, response: Response) -> Response:
        """Run the after-request hooks and save the session, as Flask does.

        The request read from its context, which Flask reads anyway, not through its proxy.
        """
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        for func in ctx._after_request_functions:  # Flask's own, as its process_response
            response = self.ensure_sync(func)(response)
        for name in chain(ctx.request.blueprints, (None,)):
            for func in reversed(self.after_request_funcs.get(name, ())):
                response = self.ensure_sync(func)(response)
        if not self.session_interface.is_null_session(ctx._session):
            self.session_interface.save_session(self, ctx._session, response)
        return response

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values to ``context``, as Flask does.

        The request itself, read once: Flask asks its proxy whether there is one, then for
        its blueprints (~20,000 instructions a render). The app's processors, then the
        request's blueprints' from the outermost in; the values the view gave win.
        """
        names: tuple[str | None, ...] = (None,)
        if has_request_context():
            asked = request._get_current_object()  # type: ignore[attr-defined]
            names += tuple(reversed(asked.blueprints))
        given = context.copy()
        processors = self.template_context_processors
        for name in names:
            for func in processors.get(name, ()):
                context.update(self.ensure_sync(func)())
        context.update(given)

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            if func in self._plain:
                return func
        except TypeError:  # an unhashable callable: asked every time
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func and len(self._plain) < KNOWN_AT_MOST:
            self._plain.add(func)
        return synced
