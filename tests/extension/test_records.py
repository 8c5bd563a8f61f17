"""The records a host reads: named for what they hold."""

from __future__ import annotations

from flask_altitudeangel import Login


def test_a_logins_name_is_its_display_name_and_the_old_name_still_works() -> None:
    login = Login("login-id", "Alice Liddell", "aa-123", 1, 2)
    assert login.display_name == "Alice Liddell"
    assert login.user_name == login.display_name  # the field's former name, kept for hosts
