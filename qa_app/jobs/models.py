"""The job table: what people see of background work (state, progress, result, error)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from qa_app.auth.models import User
from qa_app.db import Model, string_enum, utcnow
from qa_app.jobs.progress import percent


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in FINISHED_STATES


FINISHED_STATES = frozenset({JobState.DONE, JobState.FAILED})


class Job(Model):
    """One piece of background work of a registered kind (qa_app/jobs/registry.py).

    The task queue only carries the job's id; this row is the truth. ``key`` makes a scheduled
    job unique (``run_sampling:2026-W47``) so that several workers cannot start it twice;
    ``worker`` (``host:pid``) and ``heartbeat_at`` let the sweep tell a crashed worker's job from
    a running one.
    """

    __tablename__ = "job"
    __table_args__ = (Index("ix_job_state_heartbeat_at", "state", "heartbeat_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60), index=True)
    key: Mapped[str | None] = mapped_column(String(120), unique=True)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[JobState] = mapped_column(
        string_enum(JobState, "job_state"), default=JobState.QUEUED
    )
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None]
    progress_note: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]

    started_by: Mapped[User | None] = relationship()

    @property
    def percent(self) -> int | None:
        """How far the job has got, 0-100; None while a running job's total is unknown."""
        if self.state == JobState.DONE:
            return 100
        return percent(self.progress_done, self.progress_total)
