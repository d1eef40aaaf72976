"""Calibration results on the web: a revealed session's figures, their CSV, and trends."""

from __future__ import annotations

from flask import Response, abort, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response as BaseResponse

from qa_app.calibration import labels
from qa_app.calibration import results as calibration_results
from qa_app.calibration import trends as calibration_trends
from qa_app.calibration.access import (
    CALIBRATION_READERS,
    can_facilitate,
    sees_every_rater,
    session_for_viewer,
)
from qa_app.calibration.blueprint import bp
from qa_app.calibration.export import results_csv
from qa_app.calibration.models import CalibrationSession
from qa_app.calibration.stats import ALPHA_READING_GUIDE, ALPHA_RELIABLE, ALPHA_TENTATIVE
from qa_app.db import get_session
from qa_app.org.access import role_required
from qa_app.org.roles import Role

SPARK_WIDTH = 120
SPARK_HEIGHT = 24


def _revealed(session_id: int) -> CalibrationSession | BaseResponse:
    """The session once revealed; while blind, facilitators go to the session page, others 404."""
    calibration = session_for_viewer(get_session(), session_id, current_user)
    if calibration.is_blind:
        if can_facilitate(current_user, calibration):
            return redirect(url_for("calibration.session_detail", session_id=calibration.id))
        abort(404)
    return calibration


def _visible_results(calibration: CalibrationSession) -> calibration_results.SessionResults:
    computed = calibration_results.compute_results(get_session(), calibration)
    return labels.results_for(current_user, computed)


@bp.get("/<int:session_id>/results")
@role_required(frozenset(Role))  # agents are in no session: session_for_viewer answers 404
def results(session_id: int) -> str | BaseResponse:
    """Show a revealed session's agreement, accuracy and group figures."""
    calibration = _revealed(session_id)
    if isinstance(calibration, BaseResponse):
        return calibration
    return render_template(
        "calibration/results.html",
        calibration=calibration,
        results=_visible_results(calibration),
        can_see_all=sees_every_rater(current_user),
        reading_guide=ALPHA_READING_GUIDE,
        reliable=ALPHA_RELIABLE,
        tentative=ALPHA_TENTATIVE,
    )


@bp.get("/<int:session_id>/results.csv")
@role_required(frozenset(Role))
def results_export(session_id: int) -> BaseResponse:
    """Download a revealed session's results as CSV."""
    calibration = _revealed(session_id)
    if isinstance(calibration, BaseResponse):
        return calibration
    return Response(
        results_csv(_visible_results(calibration)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": (
                f'attachment; filename="calibration-{calibration.id}-results.csv"'
            )
        },
    )


def sparkline(
    points: tuple[calibration_trends.TrendPoint | None, ...],
) -> list[tuple[float, float]]:
    """SVG coordinates of alpha over the months (0 or below at the bottom, 1 at the top)."""
    step = SPARK_WIDTH / max(len(points) - 1, 1)
    return [
        (round(index * step, 1), round((1.0 - min(max(point.alpha, 0.0), 1.0)) * SPARK_HEIGHT, 1))
        for index, point in enumerate(points)
        if point is not None and point.alpha is not None
    ]


@bp.get("/trends")
@role_required(CALIBRATION_READERS)
def trends() -> str:
    """Show alpha and mean absolute deviation per group, month by month."""
    partner_id = current_user.partner_id if current_user.is_partner_user else None
    trend = labels.trends_for(
        current_user, calibration_trends.trends(get_session(), partner_id=partner_id)
    )
    return render_template(
        "calibration/trends.html",
        trends=trend,
        sparklines={series.group_key: sparkline(series.points) for series in trend.series},
        spark_width=SPARK_WIDTH,
        spark_height=SPARK_HEIGHT,
        reliable=ALPHA_RELIABLE,
        tentative=ALPHA_TENTATIVE,
    )
