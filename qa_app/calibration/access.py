"""Who may see which calibration session: one place, so pages, exports and trends agree.

Administrators and managers see every session and facilitate; QA specialists and partner QA
see the sessions they rate in; partner viewers see sessions in which their partner has a rater;
agents see none. Sessions out of sight answer 404, so their existence does not leak.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from qa_app.auth.roles import Role
from qa_app.calibration.models import CalibrationRater, CalibrationSession

FACILITATOR_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
RATING_ROLES = frozenset({Role.QA_SPECIALIST, Role.PARTNER_QA})
# Every role but agents reads calibration results, each within the sessions it may see.
CALIBRATION_READERS = frozenset(Role) - {Role.AGENT}


def can_facilitate(user: Any, calibration: CalibrationSession | None = None) -> bool:
    """Administrators and managers run (and see everything of) any session."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in FACILITATOR_ROLES


def visible_sessions_query(user: Any) -> Select[tuple[CalibrationSession]]:
    """The sessions ``user`` may open; anything unforeseen sees nothing (fail closed)."""
    stmt = select(CalibrationSession)
    if not getattr(user, "is_authenticated", False):
        return stmt.where(false())
    role = getattr(user, "role", None)
    if role in FACILITATOR_ROLES:
        return stmt
    raters = select(CalibrationRater.id).where(CalibrationRater.session_id == CalibrationSession.id)
    if role in RATING_ROLES:
        return stmt.where(raters.where(CalibrationRater.user_id == user.id).exists())
    if role == Role.PARTNER_VIEWER and user.partner_id is not None:
        return stmt.where(raters.where(CalibrationRater.partner_id == user.partner_id).exists())
    return stmt.where(false())


def session_for_viewer(db_session: Session, session_id: int, user: Any) -> CalibrationSession:
    """The session if ``user`` may see it; 404 otherwise."""
    stmt = visible_sessions_query(user).where(CalibrationSession.id == session_id)
    calibration: CalibrationSession | None = db_session.scalars(stmt).one_or_none()
    if calibration is None:
        abort(404)
    return calibration
