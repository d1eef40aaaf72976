"""Read-side queries of the job pages and the API, and the progress shown while a job runs."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from qa_app.jobs.access import can_see, visible_jobs
from qa_app.jobs.forms import STATE_LABELS
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.progress import percent
from qa_app.jobs.queue import Queue
from qa_app.jobs.registry import kind_label, registered_kinds

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProgressView:
    """What the progress partial shows of a job."""

    job_id: int
    kind: str
    state: JobState
    done: int
    total: int | None
    note: str | None
    percent: int | None
    error: str | None
    finished_at: datetime | None

    @property
    def finished(self) -> bool:
        return self.state.finished

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def kind_label(self) -> str:
        return kind_label(self.kind)


def _live(queue: Queue | None, job: Job) -> dict[str, Any] | None:
    if queue is None or job.state != JobState.RUNNING:
        return None
    try:
        return queue.live(job.id)
    except Exception:  # the job table's figures will do
        logger.debug("live progress of job %s unavailable", job.id, exc_info=True)
        return None


def progress_view(job: Job, queue: Queue | None = None) -> ProgressView:
    """The job's progress: the queue's live figures while it runs (fresher), else the table's."""
    done, total, note = job.progress_done, job.progress_total, job.progress_note
    live = _live(queue, job)
    if live is not None and int(live.get("done") or 0) >= done:
        done, total, note = int(live.get("done") or 0), live.get("total"), live.get("note")
    shown = 100 if job.state == JobState.DONE else percent(done, total)
    return ProgressView(
        job.id, job.kind, job.state, done, total, note, shown, job.error, job.finished_at
    )


def public_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """A job's parameters without the private ones (named with a leading underscore, such as
    the token of an uploaded file), for pages and the API."""
    return {name: value for name, value in parameters.items() if not name.startswith("_")}


def job_list(user: Any, *, state: str = "", kind: str = "") -> Select[Job]:
    """The jobs ``user`` may see, newest first, with who started them."""
    stmt = visible_jobs(user).options(joinedload(Job.started_by))
    if state:
        stmt = stmt.where(Job.state == JobState(state))
    if kind:
        stmt = stmt.where(Job.kind == kind)
    return stmt.order_by(Job.created_at.desc(), Job.id.desc())


def visible_job(session: Session, user: Any, job_id: int) -> Job | None:
    job = session.get(Job, job_id, options=[joinedload(Job.started_by)])
    return job if job is not None and can_see(user, job) else None


def kind_choices(session: Session) -> list[tuple[str, str]]:
    """Every registered kind, and any other kind found in the table (from an older version)."""
    names = {kind.name for kind in registered_kinds()}
    names |= set(session.scalars(select(Job.kind).distinct()))
    return sorted(((name, kind_label(name)) for name in names), key=lambda pair: pair[1])
