"""Read-only lookups behind the calibration pages and API, so both read the same way.

They take plain arguments (no request), answer with a few grouped queries whatever the number of
sessions, raters or conversations, and never decide who may see what: the callers check that with
``calibration.access`` first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, not_, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from qa_app.calibration.models import (
    CalibrationAnswer,
    CalibrationItem,
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.scorecards.models import Criterion


@dataclass(frozen=True)
class SessionCounts:
    """Per session id: conversations, raters and the user's submitted ratings; where they rate."""

    items: dict[int, int]
    raters: dict[int, int]
    submitted: dict[int, int]
    rating_in: set[int]


def session_counts(session: Session, session_ids: Sequence[int], user_id: int) -> SessionCounts:
    """The figures of a page of sessions in four grouped queries."""
    if not session_ids:
        return SessionCounts({}, {}, {}, set())

    def per_session(column: Any, *conditions: Any) -> dict[int, int]:
        stmt = select(column, func.count()).where(column.in_(session_ids), *conditions)
        return {row[0]: row[1] for row in session.execute(stmt.group_by(column))}

    rating_in = session.scalars(
        select(CalibrationRater.session_id).where(
            CalibrationRater.session_id.in_(session_ids), CalibrationRater.user_id == user_id
        )
    )
    return SessionCounts(
        items=per_session(CalibrationItem.session_id),
        raters=per_session(CalibrationRater.session_id),
        submitted=per_session(
            CalibrationRating.session_id,
            CalibrationRating.rater_id == user_id,
            CalibrationRating.status == RatingStatus.SUBMITTED,
        ),
        rating_in=set(rating_in),
    )


def people_loaded() -> list[Any]:
    """Loader options: a session's conversations, and its raters with their users and partners.

    Session pages and the API read every rater's name and group; without these each rater costs
    two more queries.
    """
    raters = selectinload(CalibrationSession.raters)
    return [
        selectinload(CalibrationSession.items).joinedload(CalibrationItem.conversation),
        raters.joinedload(CalibrationRater.user),
        raters.joinedload(CalibrationRater.partner),
    ]


def rating_statuses(
    session: Session, calibration: CalibrationSession, user_id: int
) -> dict[int, RatingStatus]:
    """The status of ``user_id``'s rating per conversation of the session (absent: not started)."""
    stmt = select(CalibrationRating.conversation_id, CalibrationRating.status).where(
        CalibrationRating.session_id == calibration.id, CalibrationRating.rater_id == user_id
    )
    return {row[0]: row[1] for row in session.execute(stmt)}


def benchmarked_conversations(session: Session, calibration: CalibrationSession) -> set[int]:
    """The conversations of the session that have a benchmark recorded."""
    stmt = select(CalibrationRating.conversation_id).where(
        CalibrationRating.session_id == calibration.id, CalibrationRating.is_benchmark.is_(True)
    )
    return set(session.scalars(stmt))


@dataclass(frozen=True)
class CriterionRow:
    criterion: Criterion
    answers: list[CalibrationAnswer | None]  # one per rater column
    benchmark: CalibrationAnswer | None


@dataclass(frozen=True)
class Comparison:
    """One conversation's submitted ratings side by side, with the benchmark."""

    item: CalibrationItem
    ratings: list[CalibrationRating | None]  # one per rater column, submitted only
    benchmark: CalibrationRating | None
    rows: list[CriterionRow]


def answers_by_criterion(rating: CalibrationRating | None) -> dict[int, CalibrationAnswer]:
    return {answer.criterion_id: answer for answer in rating.answers} if rating else {}


def side_by_side(
    session: Session,
    calibration: CalibrationSession,
    criteria: Sequence[Criterion],
    raters: Sequence[CalibrationRater],
) -> list[Comparison]:
    """Every submitted rating of ``raters`` and the benchmark, per conversation and criterion.

    Empty while the session is blind: a guard, since no page asks for it then.
    """
    if calibration.is_blind:
        return []
    stmt = (
        select(CalibrationRating)
        .where(
            CalibrationRating.session_id == calibration.id,
            CalibrationRating.is_benchmark.is_(True)
            | (CalibrationRating.status == RatingStatus.SUBMITTED),
        )
        .options(selectinload(CalibrationRating.answers))
    )
    by_key: dict[tuple[int, int | None], CalibrationRating] = {}
    for rating in session.scalars(stmt):
        rater_key = None if rating.is_benchmark else rating.rater_id
        by_key[(rating.conversation_id, rater_key)] = rating
    comparisons = []
    for item in calibration.items:
        ratings = [by_key.get((item.conversation_id, rater.user_id)) for rater in raters]
        benchmark = by_key.get((item.conversation_id, None))
        answers = [answers_by_criterion(rating) for rating in ratings]
        gold = answers_by_criterion(benchmark)
        rows = [
            CriterionRow(c, [given.get(c.id) for given in answers], gold.get(c.id))
            for c in criteria
        ]
        comparisons.append(Comparison(item, ratings, benchmark, rows))
    return comparisons


def ready_to_reveal(now: datetime) -> ColumnElement[bool]:
    """The SQL twin of ``services.reveal_refusal(...) is None``, correlated to
    CalibrationSession: still blind, and due, or every rater has submitted every conversation."""
    # The counts correlate to the rater row of the EXISTS below (one level up, as SQL needs).
    conversations = (
        select(func.count(CalibrationItem.id))
        .where(CalibrationItem.session_id == CalibrationRater.session_id)
        .scalar_subquery()
    )
    submitted = (
        select(func.count(CalibrationRating.id))
        .where(
            CalibrationRating.session_id == CalibrationRater.session_id,
            CalibrationRating.rater_id == CalibrationRater.user_id,
            CalibrationRating.status == RatingStatus.SUBMITTED,
            CalibrationRating.is_benchmark.is_(False),
        )
        .scalar_subquery()
    )
    behind = (
        select(CalibrationRater.id)
        .where(CalibrationRater.session_id == CalibrationSession.id, submitted < conversations)
        .exists()
    )
    return and_(
        CalibrationSession.status == SessionStatus.OPEN,
        or_(CalibrationSession.due_at <= now, not_(behind)),
    )
