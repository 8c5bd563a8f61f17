"""A refresh shows up in the flow trace, saying why it happened and who did it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from flask import Flask

from tests.lifecycle.conftest import TOKEN_TTL
from tests.portal.conftest import sign_in_with


def test_a_forced_refresh_adds_a_refresh_step(short_app: Callable[..., Flask]) -> None:
    client = short_app().test_client()
    sign_in_with(client)
    time.sleep(TOKEN_TTL / 2 + 0.5)
    assert client.get("/flight-reports").status_code == 200
    page = client.get("/flow").get_data(as_text=True)
    titles = re.findall(r'<span class="arrow-title">([^<]+)</span>', page)
    assert titles[-2:] == ["Refresh", "List reports"]
    assert "proactive (about to expire)" in page
    assert "won the refresh lock" in page
    assert "token version" in page
