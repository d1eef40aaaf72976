"""The ``reviews`` blueprint at /reviews, shared by the workflow and the report views."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_login import current_user

from qa_app.auth.models import User
from qa_app.org.roles import Role
from qa_app.reviews.forms import answer_choices
from qa_app.reviews.models import ReviewStatus

bp = Blueprint("reviews", __name__, url_prefix="/reviews")

REVIEW_READERS = frozenset(Role)  # every role reads reviews, each within its own scope


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"answer_choices": answer_choices, "ReviewStatus": ReviewStatus}


def acting_user() -> User:
    """The logged-in user as a User object: the services record it as the actor."""
    user: User = current_user._get_current_object()
    return user
