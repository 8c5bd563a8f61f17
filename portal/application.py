"""The portal's Flask: Flask, asking once per function whether it is a coroutine function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

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
