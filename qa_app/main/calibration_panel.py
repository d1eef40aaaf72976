"""The dashboard's calibration panel: open sessions to reveal, waiting, or with my ratings due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from qa_app.calibration.access import visible_sessions_query
from qa_app.calibration.models import (
    CalibrationItem,
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.calibration.queries import ready_to_reveal
from qa_app.main.queries import count_where


@dataclass(frozen=True)
class CalibrationLine:
    """An open session; ``ratings_in``/``ratings_expected`` only for facilitators, ``mine`` only
    for the session's raters (None otherwise)."""

    session_id: int
    title: str
    due_at: datetime
    conversations: int
    ready: bool
    ratings_in: int | None
    ratings_expected: int | None
    mine: int | None

    @property
    def my_ratings_due(self) -> bool:
        return self.mine is not None and self.mine < self.conversations


@dataclass(frozen=True)
class CalibrationFigures:
    ready: int  # sessions the facilitator may reveal now
    waiting: int  # open sessions still waiting for ratings
    my_ratings_due: int  # sessions where the user has conversations left to submit
    sessions: list[CalibrationLine]  # those that need the user, ready ones first, soonest due


def _open_sessions(user: Any, now: datetime, *, facilitator: bool) -> Any:
    """The open sessions the user may see with their figures: correlated subqueries, one SELECT.
    The progress of all raters is only a facilitator's to see."""
    session_id = CalibrationSession.id
    conversations = (
        select(func.count(CalibrationItem.id))
        .where(CalibrationItem.session_id == session_id)
        .scalar_subquery()
    )
    mine = (
        select(func.count(CalibrationRating.id))
        .where(
            CalibrationRating.session_id == session_id,
            CalibrationRating.rater_id == user.id,
            CalibrationRating.status == RatingStatus.SUBMITTED,
        )
        .scalar_subquery()
    )
    is_rater = (
        select(CalibrationRater.id)
        .where(CalibrationRater.session_id == session_id, CalibrationRater.user_id == user.id)
        .exists()
    )
    columns: list[Any] = [
        session_id.label("id"),
        CalibrationSession.title.label("title"),
        CalibrationSession.due_at.label("due_at"),
        conversations.label("conversations"),
        case((ready_to_reveal(now), True), else_=False).label("ready"),
        case((is_rater, mine)).label("mine"),
    ]
    if facilitator:
        raters = select(CalibrationRater.user_id).where(CalibrationRater.session_id == session_id)
        ratings_in = select(func.count(CalibrationRating.id)).where(
            CalibrationRating.session_id == session_id,
            CalibrationRating.rater_id.in_(raters),
            CalibrationRating.status == RatingStatus.SUBMITTED,
            CalibrationRating.is_benchmark.is_(False),
        )
        rater_count = (
            select(func.count(CalibrationRater.id))
            .where(CalibrationRater.session_id == session_id)
            .scalar_subquery()
        )
        columns += [
            ratings_in.scalar_subquery().label("ratings_in"),
            (conversations * rater_count).label("ratings_expected"),
        ]
    return (
        visible_sessions_query(user)
        .with_only_columns(*columns)
        .where(CalibrationSession.status == SessionStatus.OPEN)
        .subquery()
    )


def calibration_figures(
    session: Session, user: Any, *, now: datetime, facilitator: bool, shown: int = 5
) -> CalibrationFigures:
    """Open sessions: for a facilitator, which are ready to reveal and which wait for ratings;
    for a rater, where their ratings are due. Two queries, whatever the number of sessions."""
    rows = _open_sessions(user, now, facilitator=facilitator)
    mine_due = and_(rows.c.mine.is_not(None), rows.c.mine < rows.c.conversations)
    ready, waiting, my_due = session.execute(
        select(
            count_where(rows.c.ready.is_(True)),
            count_where(rows.c.ready.is_(False)),
            count_where(mine_due),
        )
    ).one()
    # A facilitator follows every open session; a rater only those with ratings left to do.
    lines = select(rows) if facilitator else select(rows).where(mine_due)
    found = session.execute(
        lines.order_by(rows.c.ready.desc(), rows.c.due_at, rows.c.id).limit(shown)
    ).mappings()
    return CalibrationFigures(
        ready=ready if facilitator else 0,
        waiting=waiting if facilitator else 0,
        my_ratings_due=my_due,
        sessions=[
            CalibrationLine(
                session_id=line["id"],
                title=line["title"],
                due_at=line["due_at"],
                conversations=line["conversations"],
                ready=bool(line["ready"]),
                ratings_in=line.get("ratings_in"),
                ratings_expected=line.get("ratings_expected"),
                mine=line["mine"],
            )
            for line in found
        ],
    )
