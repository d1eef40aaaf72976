"""The dashboard: what each role needs to see first."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from qa_app.db import get_session, utcnow
from qa_app.main import services

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def dashboard() -> str | Response:
    """Show my work to do now and how things stand."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    board = services.dashboard(get_session(), current_user, now=utcnow())
    return render_template("main/dashboard.html", board=board)
