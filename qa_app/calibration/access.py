"""Who may see which calibration session: one place, so pages, exports and trends agree.

Administrators and managers see every session and facilitate; QA specialists and partner QA
see the sessions they rate in; partner viewers see sessions in which their partner has a rater;
agents see none. Sessions out of sight answer 404, so their existence does not leak.

Within a session, in-house staff see every rater individually; a partner user sees the raters of
their own partner (and themselves) and, of the groups, in-house, their own and all raters
together; never another partner's individual raters or group figures.
"""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session

from qa_app.calibration.models import CalibrationRater, CalibrationSession
from qa_app.org.roles import IN_HOUSE_STAFF, Role

FACILITATOR_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
RATING_ROLES = frozenset({Role.QA_SPECIALIST, Role.PARTNER_QA})
# Every role but agents reads calibration results, each within the sessions it may see.
CALIBRATION_READERS = frozenset(Role) - {Role.AGENT}


def can_facilitate(user: Any, calibration: CalibrationSession | None = None) -> bool:
    """Active administrators and managers run (and see everything of) any session.

    Any session, not only their own: a facilitator may be away when the session is due.
    """
    return (
        bool(getattr(user, "is_authenticated", False))
        and bool(getattr(user, "is_active", False))
        and user.role in FACILITATOR_ROLES
    )


def sees_every_rater(user: Any) -> bool:
    """In-house staff see every rater of the sessions they may open; partner users do not."""
    return bool(getattr(user, "is_authenticated", False)) and user.role in IN_HOUSE_STAFF


def rater_shown(user: Any, rater: CalibrationRater) -> bool:
    """Whether ``user`` may see ``rater`` individually (name, answers, figures)."""
    if sees_every_rater(user) or rater.user_id == getattr(user, "id", None):
        return True
    partner_id = getattr(user, "partner_id", None)
    return partner_id is not None and rater.partner_id == partner_id


def shown_raters(user: Any, calibration: CalibrationSession) -> list[CalibrationRater]:
    return [rater for rater in calibration.raters if rater_shown(user, rater)]


def visible_sessions_query(user: Any) -> Select[CalibrationSession]:
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


def session_for_viewer(
    db_session: Session, session_id: int, user: Any, *options: Any
) -> CalibrationSession:
    """The session if ``user`` may see it (loaded with ``options``); 404 otherwise."""
    stmt = visible_sessions_query(user).where(CalibrationSession.id == session_id)
    calibration = db_session.scalars(stmt.options(*options)).unique().one_or_none()
    if calibration is None:
        abort(404)
    return calibration
