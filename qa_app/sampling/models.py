"""Sampling plans, their runs, and the review assignments a run creates."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import Model, string_enum, utcnow
from qa_app.org.models import Team
from qa_app.scorecards.models import Scorecard


class Strategy(StrEnum):
    UNIFORM = "uniform"  # a simple random sample of the candidates
    QUOTA = "quota_per_agent"  # n per agent per period
    STRATIFIED = "stratified"  # proportional to each team's or channel's share
    RISK = "risk_weighted"  # weighted random: low CSAT, long handling, escalations weigh more


class AssignmentStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"  # a draft review exists
    DONE = "done"
    SKIPPED = "skipped"


plan_reviewer = Table(
    "sampling_plan_reviewer",
    Model.metadata,
    Column("plan_id", ForeignKey("sampling_plan.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id"), primary_key=True),
)


class SamplingPlan(Model):
    """Which conversations get reviewed, how many, and who reviews them.

    ``filters`` holds the candidate filters (partner_ids, team_ids, agent_ids, channels,
    window_days, csat_min, csat_max, tags, min_handle_seconds); ``params`` the strategy's
    parameters (size, per_agent, stratify_by, risk weights). Both are documented in
    qa_app/sampling/engine.py, which is the only code that reads them.
    """

    __tablename__ = "sampling_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id"), index=True)
    strategy: Mapped[Strategy] = mapped_column(string_enum(Strategy, "sampling_strategy"))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    seed: Mapped[int] = mapped_column(default=0)
    # Partner QA reviewers of this plan only get conversations of their own partner.
    partner_reviewers_own_only: Mapped[bool] = mapped_column(default=True)
    due_days: Mapped[int] = mapped_column(default=7)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    scorecard: Mapped[Scorecard] = relationship()
    reviewers: Mapped[list[User]] = relationship(secondary=plan_reviewer)
    runs: Mapped[list[SamplingRun]] = relationship(
        back_populates="plan", order_by="SamplingRun.id.desc()"
    )


class SamplingRun(Model):
    """One execution of a plan for a period; a second run for the same period adds nothing."""

    __tablename__ = "sampling_run"
    __table_args__ = (UniqueConstraint("plan_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sampling_plan.id"))
    period: Mapped[str] = mapped_column(String(20))  # ISO week "2026-W47" or "2026-11-23"
    seed: Mapped[int]
    candidates: Mapped[int] = mapped_column(default=0)
    sampled: Mapped[int] = mapped_column(default=0)
    strata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # stratum -> counts
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    plan: Mapped[SamplingPlan] = relationship(back_populates="runs")


class ReviewAssignment(Model):
    """A conversation to be reviewed by someone, and why it was chosen."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        UniqueConstraint("run_id", "conversation_id"),
        Index("ix_review_assignment_reviewer_id_status", "reviewer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("scorecard.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_plan.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("sampling_run.id"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[AssignmentStatus] = mapped_column(
        string_enum(AssignmentStatus, "assignment_status"), default=AssignmentStatus.OPEN
    )
    stratum: Mapped[str] = mapped_column(String(200), default="")
    weight: Mapped[float] = mapped_column(default=1.0)
    reason: Mapped[str] = mapped_column(Text, default="")  # plan, stratum and weight, in words
    due_at: Mapped[datetime | None]
    skip_reason: Mapped[str | None] = mapped_column(Text)
    skipped_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    skipped_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    conversation: Mapped[Conversation] = relationship()
    scorecard: Mapped[Scorecard] = relationship()
    plan: Mapped[SamplingPlan | None] = relationship()
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])
    skipped_by: Mapped[User | None] = relationship(foreign_keys=[skipped_by_id])

    @classmethod
    def in_partner(cls, partner_id: int) -> ColumnElement[bool]:
        return cls.conversation_id.in_(
            select(Conversation.id).where(
                Conversation.team_id.in_(select(Team.id).where(Team.partner_id == partner_id))
            )
        )

    @classmethod
    def of_agent(cls, agent_id: int) -> ColumnElement[bool]:
        return cls.conversation_id.in_(
            select(Conversation.id).where(Conversation.agent_id == agent_id)
        )


class AssignmentEvent(Model):
    """One change made to an assignment by hand: reassigned or skipped, by whom and when.

    ``details`` keeps the names as they were (a reviewer may be renamed or deactivated later):
    ``{"from": {"id": 3, "name": "Ann"}, "to": {...}}`` for a reassignment, ``{"reason": ...,
    "released_review_id": 12 or null}`` for a skip.
    """

    __tablename__ = "review_assignment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("review_assignment.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(40))  # reassigned, skipped
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    assignment: Mapped[ReviewAssignment] = relationship()
    actor: Mapped[User | None] = relationship()
