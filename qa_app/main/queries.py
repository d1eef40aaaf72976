"""The dashboard's figures: one aggregate query per panel, each within the user's scope.

The reviewers' and managers' panels and the organisation are here; the calibration panel is in
``calibration_panel``, the agent's in ``agent_panel``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from qa_app.auth.models import User
from qa_app.org.models import Agent, AgentStatus, Partner, Team
from qa_app.org.scope import scoped
from qa_app.reviews.models import Dispute, Review, ReviewStatus
from qa_app.reviews.queries import QUEUE_STATUSES
from qa_app.reviews.services import SCORED_STATUSES
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment


def count_where(condition: ColumnElement[bool]) -> Any:
    """COUNT of the rows meeting ``condition``: several counts in one pass over a table."""
    return func.count(case((condition, 1)))


def average_where(condition: ColumnElement[bool], value: Any) -> Any:
    return func.avg(case((condition, value)))


def standing_score(since: datetime) -> ColumnElement[bool]:
    """A score that stands and counts in statistics, as on the agent's page (reviews.queries)."""
    return and_(
        Review.submitted_at >= since,
        Review.status.in_(SCORED_STATUSES),
        Review.score.is_not(None),
        Review.agent_id.is_not(None),
    )


def as_float(value: Any) -> float | None:
    return None if value is None else float(value)


# Reviewers: the queue and their own reviews -----------------------------------------------------


@dataclass(frozen=True)
class QueueFigures:
    """The user's open and in-progress assignments, and the unassigned ones in their scope."""

    open: int
    started: int
    due_this_week: int  # due from now to the end of the week, not yet overdue
    overdue: int
    next_due: datetime | None
    unassigned: int


def queue_figures(
    session: Session, user: Any, *, now: datetime, week_end: datetime
) -> QueueFigures:
    mine = ReviewAssignment.reviewer_id == user.id
    nobody = ReviewAssignment.reviewer_id.is_(None)
    due = ReviewAssignment.due_at
    stmt = select(
        count_where(mine),
        count_where(and_(mine, ReviewAssignment.status == AssignmentStatus.IN_PROGRESS)),
        count_where(and_(mine, due >= now, due < week_end)),
        count_where(and_(mine, due < now)),
        func.min(case((mine, due))),
        count_where(nobody),
    ).where(ReviewAssignment.status.in_(QUEUE_STATUSES), or_(mine, nobody))
    row = session.execute(scoped(stmt, ReviewAssignment, user)).one()
    return QueueFigures(*row)


@dataclass(frozen=True)
class ReviewFigures:
    """The user's drafts and recent reviews; the reviews submitted in scope since ``since``."""

    my_drafts: int
    my_submitted: int
    submitted: int
    scored: int  # of them, those whose score stands (the average's n)
    average: float | None


def review_figures(session: Session, user: Any, *, since: datetime) -> ReviewFigures:
    mine = Review.reviewer_id == user.id
    recent = Review.submitted_at >= since
    standing = standing_score(since)
    stmt = select(
        count_where(and_(mine, Review.status == ReviewStatus.DRAFT)),
        count_where(and_(mine, recent)),
        count_where(recent),
        count_where(standing),
        average_where(standing, Review.score),
    ).where(or_(mine, recent))
    drafts, mine_recent, submitted, scored, average = session.execute(
        scoped(stmt, Review, user)
    ).one()
    return ReviewFigures(drafts, mine_recent, submitted, scored, as_float(average))


# Managers: disputes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenDispute:
    dispute_id: int
    review_id: int
    raised_at: datetime
    agent_name: str | None
    reviewer_id: int  # a manager does not decide a dispute of a review they scored


@dataclass(frozen=True)
class DisputeFigures:
    open: int
    oldest: list[OpenDispute]  # the first few, oldest first


def dispute_figures(session: Session, user: Any, *, shown: int = 3) -> DisputeFigures:
    """The disputes waiting for a decision: their number (a window COUNT, so one query) and the
    oldest few."""
    stmt = (
        select(
            Dispute.id,
            Dispute.review_id,
            Dispute.raised_at,
            Agent.name,
            Review.reviewer_id,
            func.count().over(),
        )
        .join(Review, Review.id == Dispute.review_id)
        .outerjoin(Agent, Agent.id == Review.agent_id)
        .where(Dispute.outcome.is_(None), Review.status == ReviewStatus.DISPUTED)
        .order_by(Dispute.raised_at, Dispute.id)
        .limit(shown)
    )
    rows = session.execute(scoped(stmt, Review, user)).all()
    return DisputeFigures(
        open=rows[0][-1] if rows else 0, oldest=[OpenDispute(*row[:-1]) for row in rows]
    )


# The organisation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgFigures:
    partners: int | None  # in-house staff only
    teams: int
    active_agents: int
    users: int | None  # administrators only
    team_rows: list[Any]


def org_figures(session: Session, user: Any, *, in_house: bool, admin: bool) -> OrgFigures:
    """Active teams with their active agents within the user's scope; partners and users."""
    active_agents = (
        select(func.count(Agent.id))
        .where(Agent.team_id == Team.id, Agent.status == AgentStatus.ACTIVE)
        .scalar_subquery()
    )
    team_rows = session.execute(
        scoped(
            select(Team.id, Team.name, Partner.name.label("partner"), active_agents.label("agents"))
            .outerjoin(Partner, Team.partner_id == Partner.id)
            .where(Team.is_active)
            .order_by(Partner.name.nullsfirst(), Team.name),
            Team,
            user,
        )
    ).all()
    partners, users = None, None
    if in_house:
        partners_count = select(func.count(Partner.id)).where(Partner.is_active).scalar_subquery()
        users_count = select(func.count(User.id)).where(User.is_active).scalar_subquery()
        if admin:
            partners, users = session.execute(select(partners_count, users_count)).one()
        else:
            partners = session.scalar(select(partners_count))
    return OrgFigures(
        partners=partners,
        teams=len(team_rows),
        active_agents=sum(row.agents for row in team_rows),
        users=users,
        team_rows=list(team_rows),
    )
