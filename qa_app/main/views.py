"""The dashboard: what each role needs to see first."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from qa_app.db import get_session
from qa_app.main.services import dashboard_figures

bp = Blueprint("main", __name__)


@bp.get("/")
@login_required
def dashboard() -> str | Response:
    """Show the user's dashboard."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    figures = dashboard_figures(get_session(), current_user)
    return render_template("main/dashboard.html", figures=figures)
