"""The ``calibration`` blueprint at /calibration, shared by the session and the results views."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from qa_app.auth.models import User

bp = Blueprint("calibration", __name__, url_prefix="/calibration")


def acting_user() -> User:
    """The logged-in user as a User object: the services record it as the actor."""
    user: User = current_user._get_current_object()
    return user
