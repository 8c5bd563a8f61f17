"""The flow trace: what went over the wire for one login, recorded from the extension's signals
and drawn at /flow."""

from portal.trace.page import bp
from portal.trace.recorder import recorder

__all__ = ["bp", "recorder"]
