"""Figures kept per revealed session and group, and their trends by month.

At the reveal (and whenever results are recomputed) the headline figures of every group are
stored (:func:`store_group_results`), so the trends page is one grouped SQL query over the
stored rows instead of recomputing every past session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from qa_app.calibration.models import (
    CalibrationGroupResult,
    CalibrationSession,
    SessionStatus,
)
from qa_app.calibration.results import GROUP_ALL, GROUP_IN_HOUSE, GROUP_LABELS, SessionResults
from qa_app.db import utcnow
from qa_app.org.models import Partner


def store_group_results(
    db_session: Session, calibration_session: CalibrationSession, results: SessionResults
) -> list[CalibrationGroupResult]:
    """Upsert the headline figures per group; groups no longer present are removed."""
    existing = {
        row.group_key: row
        for row in db_session.scalars(
            select(CalibrationGroupResult).where(
                CalibrationGroupResult.session_id == calibration_session.id
            )
        )
    }
    now = utcnow()
    stored = []
    for group in (results.all_raters, *results.groups):
        row = existing.pop(group.key, None)
        if row is None:
            row = CalibrationGroupResult(session_id=calibration_session.id, group_key=group.key)
            db_session.add(row)
        row.partner_id = group.partner_id
        row.raters = group.raters
        row.alpha = group.agreement.alpha
        row.mean_absolute_deviation = group.mean_absolute_deviation
        row.signed_bias = group.signed_bias
        row.share_within_tolerance = group.share_within_tolerance
        row.match_rate = group.match_rate
        row.computed_at = now
        stored.append(row)
    for stale in existing.values():
        db_session.delete(stale)
    db_session.flush()
    return stored


@dataclass(frozen=True)
class TrendPoint:
    month: str  # "YYYY-MM"
    sessions: int
    alpha: float | None  # mean over the month's sessions
    mean_absolute_deviation: float | None


@dataclass(frozen=True)
class TrendSeries:
    group_key: str
    label: str
    points: tuple[TrendPoint | None, ...]  # aligned with Trends.months; None: not in that month


@dataclass(frozen=True)
class Trends:
    months: tuple[str, ...]  # oldest first; only months with a revealed session, none empty
    series: tuple[TrendSeries, ...]
    window: int  # the months looked back over


def _month_starts(today: date, months: int) -> list[date]:
    first = today.year * 12 + today.month - 1 - (months - 1)
    return [date(index // 12, index % 12 + 1, 1) for index in range(first, first + months)]


def trends(
    db_session: Session,
    *,
    partner_id: int | None = None,
    months: int = 12,
    today: date | None = None,
) -> Trends:
    """Alpha and mean absolute deviation per group per month, over revealed sessions.

    Looks back ``months`` months (this one included); only the months with a revealed session
    are returned, so there is no empty month and no month at all without any session. A
    session counts in the month it was revealed (its due date if that is missing). With
    ``partner_id`` only "all", "in_house" and that partner's series are returned: a partner
    never sees another partner's figures.
    """
    if months < 1:
        raise ValueError("months must be at least 1")
    starts = _month_starts(today or utcnow().date(), months)
    since = datetime.combine(starts[0], datetime.min.time(), tzinfo=UTC)
    moment = func.coalesce(CalibrationSession.revealed_at, CalibrationSession.due_at)
    year, month = extract("year", moment), extract("month", moment)
    result = CalibrationGroupResult
    stmt = (
        select(
            year,
            month,
            result.group_key,
            Partner.name,
            func.count(result.id),
            func.avg(result.alpha),
            func.avg(result.mean_absolute_deviation),
        )
        .join(CalibrationSession, CalibrationSession.id == result.session_id)
        .outerjoin(Partner, Partner.id == result.partner_id)
        .where(
            CalibrationSession.status.in_([SessionStatus.REVEALED, SessionStatus.CLOSED]),
            moment >= since,
        )
        .group_by(year, month, result.group_key, Partner.name)
    )
    if partner_id is not None:
        stmt = stmt.where(
            result.group_key.in_([GROUP_ALL, GROUP_IN_HOUSE]) | (result.partner_id == partner_id)
        )
    labels: dict[str, str] = {}
    points: dict[tuple[str, str], TrendPoint] = {}
    for row_year, row_month, key, partner_name, count, alpha, mad in db_session.execute(stmt):
        label = f"{int(row_year):04d}-{int(row_month):02d}"
        labels[key] = GROUP_LABELS.get(key) or partner_name or key
        points[(key, label)] = TrendPoint(
            label,
            int(count),
            None if alpha is None else float(alpha),
            None if mad is None else float(mad),
        )
    shown = {month for _, month in points}
    month_labels = tuple(label for start in starts if (label := start.strftime("%Y-%m")) in shown)
    order = sorted(
        labels, key=lambda key: (key != GROUP_ALL, key != GROUP_IN_HOUSE, labels[key].lower())
    )
    series = tuple(
        TrendSeries(key, labels[key], tuple(points.get((key, m)) for m in month_labels))
        for key in order
    )
    return Trends(month_labels, series, months)
