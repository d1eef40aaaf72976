"""Flask-Login wiring: load users from the session cookie, fail closed on anything odd."""

from __future__ import annotations

from flask import Flask
from flask_login import LoginManager

from qa_app.auth.models import User
from qa_app.db import get_session

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Accept the cookie only if the account is active and its session token still matches."""
    raw_id, _, token = user_id.partition(":")
    if not raw_id.isdigit() or not token:
        return None
    user = get_session().get(User, int(raw_id))
    if user is None or not user.is_active or user.session_token != token:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
