"""The smallest honest use of flask-altitudeangel: sign in with Altitude Angel, see your profile.

    AA_CLIENT_ID=... AA_CLIENT_SECRET=... AA_REDIRECT_URI=http://127.0.0.1:8000/callback \
    AA_REDIS_URL=redis://127.0.0.1:6379/0 SECRET_KEY=... flask --app app run --port 8000
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, render_template_string, request
from flask_wtf.csrf import CSRFProtect

from flask_altitudeangel import AltitudeAngel, SignInRequired, login_required

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head><body><main>
{% if login %}
  <p>Signed in as {{ login.display_name }}.</p>
  <form method="post" action="{{ url_for('altitudeangel.logout') }}">
    <input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
    <button>Sign out</button></form>
{% else %}
  <p><a href="{{ url_for('altitudeangel.login', next=next_path or '/profile') }}">
    Sign in with Altitude Angel</a></p>
{% endif %}
{% if profile %}
  <h1>{{ profile.first_name }} {{ profile.last_name }}</h1>
  <dl><dt>E-mail</dt><dd>{{ profile.email }}</dd><dt>Country</dt><dd>{{ profile.country }}</dd></dl>
{% endif %}
</main></body></html>"""


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY")
    app.config.update({k: v for k, v in os.environ.items() if k.startswith("AA_")})
    app.config.update(config or {})
    CSRFProtect(app)  # the sign-out form, like every form, carries a token
    aa = AltitudeAngel(app)

    @app.get("/")
    def home() -> str:
        return render_template_string(PAGE, title="Home", login=aa.current_login)

    @app.get("/profile")
    @login_required
    def profile() -> str:
        answer = aa.user_api.get(aa.config.userprofile_url, "user_profile")
        return render_template_string(
            PAGE, title="Your profile", login=aa.current_login, profile=answer.json()
        )

    @app.errorhandler(SignInRequired)
    def sign_in(error: SignInRequired) -> tuple[str, int]:
        # A link to click, never a redirect: a redirect would sign a user who just signed out
        # straight back in wherever Altitude Angel still remembers them.
        page = render_template_string(PAGE, title="Please sign in", next_path=request.path)
        return page, 401

    return app
