"""Reading reviews: who sees which, list filters, the queue, and score statistics in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.elements import ColumnElement

from qa_app.conversations.models import Conversation
from qa_app.org.models import Agent, Team
from qa_app.org.scope import scoped
from qa_app.reviews.models import Dispute, DisputeOutcome, Review, ReviewStatus
from qa_app.reviews.services import SCORED_STATUSES
from qa_app.reviews.stats import PooledSD, ScoreSummary, ScoreSums, pooled_sd, summarise
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from qa_app.scorecards.models import Scorecard, ScorecardVersion, VersionStatus

# Visibility ------------------------------------------------------------------------------------


def visible_reviews(user: Any) -> Select[Any]:
    """Reviews the user may read: the partner scope, and drafts only for their own reviewer."""
    user_id = getattr(user, "id", None)
    not_draft: ColumnElement[bool] = Review.status != ReviewStatus.DRAFT
    condition = not_draft if user_id is None else or_(not_draft, Review.reviewer_id == user_id)
    return scoped(select(Review).where(condition), Review, user)


def get_visible(session: Session, review_id: int, user: Any) -> Review | None:
    stmt = visible_reviews(user).where(Review.id == review_id)
    result: Review | None = session.scalars(stmt).one_or_none()
    return result


# Filters ---------------------------------------------------------------------------------------


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass(frozen=True)
class ReviewFilters:
    """List and statistics filters; ``submitted_to`` includes that whole day."""

    agent_id: int | None = None
    team_id: int | None = None
    status: ReviewStatus | None = None
    submitted_from: date | None = None
    submitted_to: date | None = None
    score_min: float | None = None
    score_max: float | None = None
    scorecard_id: int | None = None
    reviewer_id: int | None = None
    conversation_id: int | None = None


def apply_filters(stmt: Select[Any], filters: ReviewFilters) -> Select[Any]:
    conditions: list[ColumnElement[bool]] = []
    if filters.agent_id is not None:
        conditions.append(Review.agent_id == filters.agent_id)
    if filters.team_id is not None:
        conditions.append(Review.team_id == filters.team_id)
    if filters.status is not None:
        conditions.append(Review.status == filters.status)
    if filters.submitted_from is not None:
        conditions.append(Review.submitted_at >= day_start(filters.submitted_from))
    if filters.submitted_to is not None and filters.submitted_to < date.max:  # else: no bound
        conditions.append(Review.submitted_at < day_start(filters.submitted_to + timedelta(days=1)))
    if filters.score_min is not None:
        conditions.append(Review.score >= filters.score_min)
    if filters.score_max is not None:
        conditions.append(Review.score <= filters.score_max)
    if filters.scorecard_id is not None:
        conditions.append(
            Review.scorecard_version_id.in_(
                select(ScorecardVersion.id).where(
                    ScorecardVersion.scorecard_id == filters.scorecard_id
                )
            )
        )
    if filters.reviewer_id is not None:
        conditions.append(Review.reviewer_id == filters.reviewer_id)
    if filters.conversation_id is not None:
        conditions.append(Review.conversation_id == filters.conversation_id)
    return stmt.where(*conditions) if conditions else stmt


def review_list(user: Any, filters: ReviewFilters) -> Select[Any]:
    """The visible reviews, filtered, newest first, with what a list row shows loaded."""
    newest = func.coalesce(Review.submitted_at, Review.created_at)
    return apply_filters(visible_reviews(user), filters).order_by(newest.desc(), Review.id.desc())


def list_loading() -> list[Any]:
    """Loader options so that a page of reviews costs a fixed number of queries."""
    return [
        joinedload(Review.agent),
        joinedload(Review.reviewer),
        joinedload(Review.conversation),
        joinedload(Review.scorecard_version).joinedload(ScorecardVersion.scorecard),
    ]


def team_names(session: Session, team_ids: Sequence[int | None]) -> dict[int, str]:
    wanted = {team_id for team_id in team_ids if team_id is not None}
    if not wanted:
        return {}
    rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(wanted)))
    return {team_id: name for team_id, name in rows}


# The reviewer's queue --------------------------------------------------------------------------

QUEUE_STATUSES = (AssignmentStatus.OPEN, AssignmentStatus.IN_PROGRESS)


def queue(user: Any, *, unassigned: bool = False) -> Select[ReviewAssignment]:
    """The user's open and in-progress assignments (or the unassigned ones in their scope),
    soonest due first, undated last."""
    owner = (
        ReviewAssignment.reviewer_id.is_(None)
        if unassigned
        else (ReviewAssignment.reviewer_id == user.id)
    )
    stmt = select(ReviewAssignment).where(owner, ReviewAssignment.status.in_(QUEUE_STATUSES))
    return scoped(stmt, ReviewAssignment, user).order_by(
        ReviewAssignment.due_at.is_(None), ReviewAssignment.due_at, ReviewAssignment.id
    )


def queue_loading() -> list[Any]:
    return [
        joinedload(ReviewAssignment.conversation).joinedload(Conversation.agent),
        joinedload(ReviewAssignment.conversation).joinedload(Conversation.team),
        joinedload(ReviewAssignment.scorecard),
    ]


def reviews_of_assignments(session: Session, assignment_ids: Sequence[int]) -> dict[int, int]:
    """Assignment id -> id of its review, for the assignments that have one."""
    if not assignment_ids:
        return {}
    rows = session.execute(
        select(Review.assignment_id, Review.id).where(Review.assignment_id.in_(assignment_ids))
    )
    return {assignment_id: review_id for assignment_id, review_id in rows if assignment_id}


# Statistics ------------------------------------------------------------------------------------


def _scored(user: Any, filters: ReviewFilters, *columns: Any) -> Select[Any]:
    """SUM, SUM of squares and COUNT of the standing scores, grouped by ``columns``."""
    score = Review.score
    stmt: Select[Any] = select(
        *columns, func.count(score), func.sum(score), func.sum(score * score)
    ).where(Review.status.in_(SCORED_STATUSES), score.is_not(None), Review.agent_id.is_not(None))
    # The status filter picks what a list shows; statistics always use the standing scores.
    stmt = apply_filters(stmt, ReviewFilters(**{**filters.__dict__, "status": None}))
    return scoped(stmt, Review, user).group_by(*columns)


def _sums(count: int, total: float | None, squares: float | None) -> ScoreSums:
    return ScoreSums(int(count), float(total or 0.0), float(squares or 0.0))


@dataclass(frozen=True)
class AgentScore:
    agent_id: int
    agent_name: str
    team_id: int
    summary: ScoreSummary
    sums: ScoreSums


def agent_scores(
    session: Session, filters: ReviewFilters, *, user: Any, confidence: float = 0.95
) -> list[AgentScore]:
    """Per agent in the user's scope: n, mean, SD and t-interval of the standing review scores
    (submitted, acknowledged, resolved), aggregated in SQL. Agents without scores are absent."""
    stmt = _scored(user, filters, Agent.id, Agent.name, Agent.team_id).join(
        Agent, Agent.id == Review.agent_id
    )
    result = []
    for agent_id, name, team_id, count, total, squares in session.execute(
        stmt.order_by(Agent.name, Agent.id)
    ):
        sums = _sums(count, total, squares)
        result.append(AgentScore(agent_id, name, team_id, summarise(sums, confidence), sums))
    return result


@dataclass(frozen=True)
class TeamVariance:
    """The pooled within-agent SD of one team (``team_id`` None: all teams together)."""

    team_id: int | None
    team_name: str
    agents: int  # agents with at least one standing score
    reviews: int
    pooled: PooledSD


def score_variance(session: Session, filters: ReviewFilters, *, user: Any) -> list[TeamVariance]:
    """Pooled within-agent SDs: first for everything in scope, then per team (the team the
    conversation belonged to), from per-(team, agent) sums computed in SQL."""
    stmt = _scored(user, filters, Review.team_id, Review.agent_id)
    rows = [
        (team_id, agent_id, _sums(count, total, squares))
        for team_id, agent_id, count, total, squares in session.execute(stmt)
    ]
    # An agent who moved team has a row per team; overall, their scores are one group.
    per_agent: dict[int, ScoreSums] = {}
    by_team: dict[int | None, list[ScoreSums]] = {}
    for team_id, agent_id, sums in rows:
        seen = per_agent.get(agent_id)
        per_agent[agent_id] = (
            sums
            if seen is None
            else ScoreSums(
                seen.n + sums.n, seen.total + sums.total, seen.total_squares + sums.total_squares
            )
        )
        by_team.setdefault(team_id, []).append(sums)
    overall = list(per_agent.values())
    result = [
        TeamVariance(None, "All teams", len(overall), sum(s.n for s in overall), pooled_sd(overall))
    ]
    names = team_names(session, list(by_team))
    for team_id, groups in sorted(
        by_team.items(), key=lambda item: (item[0] is None, names.get(item[0] or 0, "").lower())
    ):
        name = names.get(team_id, "No team") if team_id is not None else "No team"
        result.append(
            TeamVariance(team_id, name, len(groups), sum(s.n for s in groups), pooled_sd(groups))
        )
    return result


# Scorecards ------------------------------------------------------------------------------------


def published_scorecards(session: Session) -> list[tuple[int, str]]:
    """Active scorecards with a published version, as (id, name) choices."""
    published = select(ScorecardVersion.scorecard_id).where(
        ScorecardVersion.status == VersionStatus.PUBLISHED
    )
    stmt = (
        select(Scorecard.id, Scorecard.name)
        .where(Scorecard.is_active, Scorecard.id.in_(published))
        .order_by(Scorecard.name)
    )
    return [(scorecard_id, name) for scorecard_id, name in session.execute(stmt)]


# Rules as SQL ---------------------------------------------------------------------------------


def disputable() -> ColumnElement[bool]:
    """The SQL twin of ``services.may_dispute``, correlated to Review: submitted, or resolved by
    a dispute that re-scored it (the new score is a new decision)."""
    last_outcome = (
        select(Dispute.outcome)
        .where(Dispute.review_id == Review.id)
        .order_by(Dispute.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return or_(
        Review.status == ReviewStatus.SUBMITTED,
        and_(Review.status == ReviewStatus.RESOLVED, last_outcome == DisputeOutcome.RESCORED),
    )
