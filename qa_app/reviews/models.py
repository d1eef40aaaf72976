"""Reviews of conversations on a pinned scorecard version, disputes, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    select,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import Model, string_enum, utcnow
from qa_app.org.models import Agent, Team
from qa_app.sampling.models import ReviewAssignment
from qa_app.scorecards.models import Criterion, ScorecardVersion


class ReviewStatus(StrEnum):
    DRAFT = "draft"  # being scored; only the reviewer sees it
    SUBMITTED = "submitted"  # scored; the agent can acknowledge or dispute
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    RESOLVED = "resolved"  # a dispute was decided (upheld or re-scored)


class DisputeOutcome(StrEnum):
    UPHELD = "upheld"  # the review stands
    RESCORED = "rescored"  # answers changed; the old ones stay in the audit trail


class Review(Model):
    """One reviewer's scoring of one conversation on one scorecard version."""

    __tablename__ = "review"
    __table_args__ = (
        Index("ix_review_agent_id_submitted_at", "agent_id", "submitted_at"),
        Index("ix_review_team_id_submitted_at", "team_id", "submitted_at"),
        Index("ix_review_reviewer_id_status", "reviewer_id", "status"),
        # One draft per reviewer and conversation, even when two "start" clicks race.
        Index(
            "uq_review_one_draft",
            "reviewer_id",
            "conversation_id",
            unique=True,
            sqlite_where=text("status = 'draft'"),
            postgresql_where=text("status = 'draft'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("review_assignment.id"), unique=True
    )
    scorecard_version_id: Mapped[int] = mapped_column(
        ForeignKey("scorecard_version.id"), index=True
    )
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    # Copied from the conversation so reports and scope filters need no join.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agent.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"))
    status: Mapped[ReviewStatus] = mapped_column(
        string_enum(ReviewStatus, "review_status"), default=ReviewStatus.DRAFT
    )
    score: Mapped[float | None] = mapped_column(Float)
    auto_failed: Mapped[bool] = mapped_column(default=False)
    section_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]

    conversation: Mapped[Conversation] = relationship()
    assignment: Mapped[ReviewAssignment | None] = relationship()
    scorecard_version: Mapped[ScorecardVersion] = relationship()
    reviewer: Mapped[User] = relationship()
    agent: Mapped[Agent | None] = relationship()
    team: Mapped[Team | None] = relationship()
    answers: Mapped[list[ReviewAnswer]] = relationship(
        back_populates="review", cascade="all, delete-orphan", order_by="ReviewAnswer.id"
    )
    disputes: Mapped[list[Dispute]] = relationship(back_populates="review", order_by="Dispute.id")

    @classmethod
    def in_partner(cls, partner_id: int) -> ColumnElement[bool]:
        return cls.team_id.in_(select(Team.id).where(Team.partner_id == partner_id))

    @classmethod
    def of_agent(cls, agent_id: int) -> ColumnElement[bool]:
        return cls.agent_id == agent_id


class ReviewAnswer(Model):
    """The answer to one criterion: "yes", "no", "na", or a number as text; and a comment."""

    __tablename__ = "review_answer"
    __table_args__ = (UniqueConstraint("review_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"), index=True)
    value: Mapped[str | None] = mapped_column(String(20))  # None while a draft is incomplete
    comment: Mapped[str] = mapped_column(Text, default="")

    review: Mapped[Review] = relationship(back_populates="answers")
    criterion: Mapped[Criterion] = relationship()


class Dispute(Model):
    """An agent's objection to a review, and how a QA lead or manager decided it."""

    __tablename__ = "dispute"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[DisputeOutcome | None] = mapped_column(
        string_enum(DisputeOutcome, "dispute_outcome")
    )
    resolution_note: Mapped[str] = mapped_column(Text, default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    resolved_at: Mapped[datetime | None]

    review: Mapped[Review] = relationship(back_populates="disputes")
    raised_by: Mapped[User] = relationship(foreign_keys=[raised_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class ReviewEvent(Model):
    """The audit trail: every change to a review, who made it, when, and what changed."""

    __tablename__ = "review_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("review.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))  # created, saved, submitted, disputed, ...
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. old answers

    actor: Mapped[User | None] = relationship()
