"""Calibration sessions: the same conversations scored blind by several raters, a benchmark,
the discussion afterwards, and the figures kept per session for trends."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import Model, string_enum, utcnow
from qa_app.org.models import Partner
from qa_app.scorecards.models import Criterion, ScorecardVersion

DEFAULT_TOLERANCE = 5.0  # points of the 0-100 score within which a rater "matches" the benchmark


class SessionStatus(StrEnum):
    OPEN = "open"  # blind: raters score; nobody sees anyone else's answers
    REVEALED = "revealed"  # results, benchmark and every rater's answers are visible; discussion
    CLOSED = "closed"  # discussion over; nothing changes any more


class RatingStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class CalibrationSession(Model):
    """One calibration round: a scorecard version, a handful of conversations, invited raters."""

    __tablename__ = "calibration_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    instructions: Mapped[str] = mapped_column(Text, default="")
    scorecard_version_id: Mapped[int] = mapped_column(
        ForeignKey("scorecard_version.id"), index=True
    )
    facilitator_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    status: Mapped[SessionStatus] = mapped_column(
        string_enum(SessionStatus, "calibration_session_status"), default=SessionStatus.OPEN
    )
    due_at: Mapped[datetime]
    tolerance: Mapped[float] = mapped_column(Float, default=DEFAULT_TOLERANCE)
    # A monthly series made by `schedule-calibration` has a key such as "2026-11"; running the
    # command again for the same month finds the session instead of adding another.
    series_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revealed_at: Mapped[datetime | None]
    revealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]

    scorecard_version: Mapped[ScorecardVersion] = relationship()
    facilitator: Mapped[User] = relationship(foreign_keys=[facilitator_id])
    items: Mapped[list[CalibrationItem]] = relationship(
        back_populates="session", order_by="CalibrationItem.position", cascade="all, delete-orphan"
    )
    raters: Mapped[list[CalibrationRater]] = relationship(
        back_populates="session", order_by="CalibrationRater.id", cascade="all, delete-orphan"
    )

    @property
    def is_blind(self) -> bool:
        return self.status == SessionStatus.OPEN


class CalibrationItem(Model):
    """A conversation of a session. Conversations in a session are kept out of sampling."""

    __tablename__ = "calibration_item"
    __table_args__ = (UniqueConstraint("session_id", "conversation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE")
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    session: Mapped[CalibrationSession] = relationship(back_populates="items")
    conversation: Mapped[Conversation] = relationship()


class CalibrationRater(Model):
    """An invited rater. ``partner_id`` is the rater's partner when invited (None: in-house), so
    the group a rating counts for never changes afterwards."""

    __tablename__ = "calibration_rater"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)

    session: Mapped[CalibrationSession] = relationship(back_populates="raters")
    user: Mapped[User] = relationship()
    partner: Mapped[Partner | None] = relationship()


class CalibrationRating(Model):
    """One rater's scoring of one conversation of a session, or the benchmark (``rater_id``
    None, ``is_benchmark`` true) that the facilitator records or adopts from the consensus."""

    __tablename__ = "calibration_rating"
    __table_args__ = (
        UniqueConstraint("session_id", "conversation_id", "rater_id"),
        Index(
            "uq_calibration_rating_one_benchmark",
            "session_id",
            "conversation_id",
            unique=True,
            sqlite_where=text("is_benchmark"),
            postgresql_where=text("is_benchmark"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id"))
    rater_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    is_benchmark: Mapped[bool] = mapped_column(default=False)
    status: Mapped[RatingStatus] = mapped_column(
        string_enum(RatingStatus, "calibration_rating_status"), default=RatingStatus.DRAFT
    )
    score: Mapped[float | None] = mapped_column(Float)
    auto_failed: Mapped[bool] = mapped_column(default=False)
    overall_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]

    rater: Mapped[User | None] = relationship()
    conversation: Mapped[Conversation] = relationship()
    answers: Mapped[list[CalibrationAnswer]] = relationship(
        back_populates="rating", cascade="all, delete-orphan", order_by="CalibrationAnswer.id"
    )


class CalibrationAnswer(Model):
    """The answer to one criterion: "yes", "no", "na" or a number as text, and a comment."""

    __tablename__ = "calibration_answer"
    __table_args__ = (UniqueConstraint("rating_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rating_id: Mapped[int] = mapped_column(ForeignKey("calibration_rating.id", ondelete="CASCADE"))
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"), index=True)
    value: Mapped[str | None] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")

    rating: Mapped[CalibrationRating] = relationship(back_populates="answers")
    criterion: Mapped[Criterion] = relationship()


class CalibrationNote(Model):
    """Discussion after the reveal: a note on the session, a conversation or a criterion; a
    decision is a note that settles how a criterion is to be read, and can become guidance."""

    __tablename__ = "calibration_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id"))
    criterion_id: Mapped[int | None] = mapped_column(ForeignKey("criterion.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    is_decision: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the decision was copied into the guidance of a draft version of the scorecard.
    applied_to_version_id: Mapped[int | None] = mapped_column(ForeignKey("scorecard_version.id"))
    applied_at: Mapped[datetime | None]

    author: Mapped[User] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    criterion: Mapped[Criterion | None] = relationship()
    applied_to_version: Mapped[ScorecardVersion | None] = relationship()


class CalibrationGroupResult(Model):
    """Headline figures of one group (in-house, or one partner) in one revealed session.

    Written when a session's results are (re)computed, so trends across months are one SQL
    query instead of recomputing every past session.
    """

    __tablename__ = "calibration_group_result"
    __table_args__ = (UniqueConstraint("session_id", "group_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("calibration_session.id", ondelete="CASCADE")
    )
    group_key: Mapped[str] = mapped_column(String(20))  # "all", "in_house" or "partner:<id>"
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner.id"), index=True)
    raters: Mapped[int] = mapped_column(default=0)
    alpha: Mapped[float | None] = mapped_column(Float)  # total score, interval level
    mean_absolute_deviation: Mapped[float | None] = mapped_column(Float)
    signed_bias: Mapped[float | None] = mapped_column(Float)
    share_within_tolerance: Mapped[float | None] = mapped_column(Float)
    match_rate: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[CalibrationSession] = relationship()
