"""Frozen dataclasses built from values read on every request, for less than their __init__.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: a user's
token (twelve fields) costs ~28,000 instructions to build that way, and a page view builds it
and the request's login. ``assembled`` lays the same values into the instance at once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar, cast

T = TypeVar("T")


def assembled(cls: type[T], values: Mapping[str, Any]) -> T:
    """Return ``cls(**values)``, built without its ``__init__`` when that changes nothing.

    Values for exactly the class's fields, with the defaults of those not given, go straight
    into the instance; anything else (an unknown field, a missing one) goes to ``__init__``,
    which refuses or completes it as it always has.
    """
    names, defaults = _layout(cast(Any, cls))
    given = {**defaults, **values}
    if given.keys() != names:
        return cls(**values)
    made = object.__new__(cls)
    made.__dict__.update(given)
    return made


@cache
def _layout(cls: Any) -> tuple[frozenset[str], dict[str, Any]]:
    """The field names of ``cls``, and the plain defaults among them."""
    params = getattr(cls, "__dataclass_params__", None)
    plain = not hasattr(cls, "__post_init__") and "__slots__" not in vars(cls)
    if params is None or not params.frozen or not plain:
        raise TypeError(f"{cls.__name__} is not a frozen dataclass built by its fields alone")
    fields = dataclasses.fields(cls)
    defaults = {f.name: f.default for f in fields if f.default is not dataclasses.MISSING}
    return frozenset(f.name for f in fields), defaults
