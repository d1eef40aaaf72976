"""The agent's panel: reviews to acknowledge or dispute, averages, the latest reviews."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from qa_app.conversations.models import Conversation
from qa_app.main.queries import as_float, average_where, count_where, standing_score
from qa_app.org.scope import scoped
from qa_app.reviews.models import Review, ReviewStatus
from qa_app.reviews.queries import disputable

# An agent acknowledges a submitted review, or one whose dispute was decided.
AWAITING_ACKNOWLEDGEMENT = (ReviewStatus.SUBMITTED, ReviewStatus.RESOLVED)


@dataclass(frozen=True)
class AgentFigures:
    reviews: int
    awaiting: int  # to acknowledge
    disputable: int  # of the reviews not yet acknowledged, those the agent may still dispute
    disputed: int  # disputes waiting for a manager's decision
    average_30: float | None
    scored_30: int
    average_90: float | None
    scored_90: int


def agent_figures(
    session: Session, user: Any, *, since_30: datetime, since_90: datetime
) -> AgentFigures:
    """The agent's own reviews (the scope gives an agent only theirs), counted in one query."""
    stmt = select(
        func.count(Review.id),
        count_where(Review.status.in_(AWAITING_ACKNOWLEDGEMENT)),
        count_where(disputable()),
        count_where(Review.status == ReviewStatus.DISPUTED),
        average_where(standing_score(since_30), Review.score),
        count_where(standing_score(since_30)),
        average_where(standing_score(since_90), Review.score),
        count_where(standing_score(since_90)),
    ).where(Review.status != ReviewStatus.DRAFT)
    row = session.execute(scoped(stmt, Review, user)).one()
    reviews, awaiting, may_dispute, disputed, avg_30, n_30, avg_90, n_90 = row
    return AgentFigures(
        reviews, awaiting, may_dispute, disputed, as_float(avg_30), n_30, as_float(avg_90), n_90
    )


@dataclass(frozen=True)
class ReviewLine:
    review_id: int
    submitted_at: datetime | None
    score: float | None
    auto_failed: bool
    status: ReviewStatus
    conversation: str  # its external id
    channel: str
    disputable: bool


def agent_reviews(
    session: Session, user: Any, *, awaiting_only: bool = False, limit: int = 5
) -> list[ReviewLine]:
    """The agent's latest reviews (or those waiting for the acknowledgement), newest first."""
    stmt = (
        select(
            Review.id,
            Review.submitted_at,
            Review.score,
            Review.auto_failed,
            Review.status,
            Conversation.external_id,
            Conversation.channel,
            case((disputable(), True), else_=False).label("disputable"),
        )
        .join(Conversation, Conversation.id == Review.conversation_id)
        .where(Review.status != ReviewStatus.DRAFT)
        .order_by(Review.submitted_at.desc(), Review.id.desc())
        .limit(limit)
    )
    if awaiting_only:
        stmt = stmt.where(Review.status.in_(AWAITING_ACKNOWLEDGEMENT))
    rows = session.execute(scoped(stmt, Review, user)).all()
    return [
        ReviewLine(
            review_id=row.id,
            submitted_at=row.submitted_at,
            score=row.score,
            auto_failed=row.auto_failed,
            status=row.status,
            conversation=row.external_id,
            channel=row.channel,
            disputable=bool(row.disputable),
        )
        for row in rows
    ]
