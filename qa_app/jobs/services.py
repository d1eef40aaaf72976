"""Job state changes: enqueue, claim, finish, fail, retry and sweep. They flush, never commit.

Every state change is a conditional UPDATE (``WHERE state = ... AND attempts = ...``), so a
worker that lost its job to the sweep cannot overwrite what the next attempt writes, and a job
that is done is never claimed again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, or_, select, update
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.db import utcnow
from qa_app.jobs.errors import JobError
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.queue import dispatch_after_commit
from qa_app.jobs.registry import kind_for

MAX_ERROR_LENGTH = 4000
MAX_NOTE_LENGTH = 200


def as_json(value: Any, what: str) -> Any:
    """``value`` as it will come back from a JSON column; JobError if it is not JSON."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise JobError(f"{what} must be JSON (numbers, text, lists, objects): {error}") from error


def enqueue(
    session: Session,
    kind: str,
    params: dict[str, Any] | None = None,
    *,
    by: User | None,
    key: str | None = None,
) -> Job:
    """Add a queued job (flushed); it reaches the queue when the caller commits."""
    kind_for(kind)  # UnknownJobKind before anything is written
    job = Job(
        kind=kind,
        key=key,
        started_by_id=by.id if by is not None else None,
        parameters=as_json(params or {}, "a job's parameters"),
        state=JobState.QUEUED,
        heartbeat_at=utcnow(),  # for a queued job: when it was last handed to the queue
    )
    session.add(job)
    session.flush()
    dispatch_after_commit(session, job.id)
    return job


def job_with_key(session: Session, key: str) -> Job | None:
    return session.scalars(select(Job).where(Job.key == key)).one_or_none()


@dataclass(frozen=True)
class Claim:
    job_id: int
    kind: str
    params: dict[str, Any]
    started_by_id: int | None
    attempt: int


def claim(session: Session, job_id: int, *, worker: str) -> Claim | None:
    """Mark a queued job running for ``worker``; None if it is not queued (done, taken, gone)."""
    now = utcnow()
    claimed = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.QUEUED)
        .values(
            state=JobState.RUNNING,
            attempts=Job.attempts + 1,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            finished_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.execute(
        select(Job.kind, Job.parameters, Job.started_by_id, Job.attempts).where(Job.id == job_id)
    ).one()
    return Claim(job_id, row.kind, dict(row.parameters or {}), row.started_by_id, row.attempts)


def _while_running(claimed: Claim) -> Any:
    return (
        (Job.id == claimed.job_id)
        & (Job.state == JobState.RUNNING)
        & (Job.attempts == claimed.attempt)
    )


Progress = tuple[int, int | None, str | None]


def _progress_values(progress: Progress | None) -> dict[str, Any]:
    if progress is None:
        return {}
    done, total, note = progress
    note = note[:MAX_NOTE_LENGTH] if note else None
    return {"progress_done": max(0, int(done)), "progress_total": total, "progress_note": note}


def _change(session: Session | Connection, claimed: Claim, **values: Any) -> bool:
    changed = session.execute(
        update(Job)
        .where(_while_running(claimed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return changed.rowcount == 1  # type: ignore[attr-defined]


def record_progress(
    session: Session | Connection,
    claimed: Claim,
    done: int,
    total: int | None,
    note: str | None,
) -> bool:
    """The heartbeat, with the progress so far; False if the job is no longer this attempt's."""
    values = _progress_values((done, total, note))
    return _change(session, claimed, heartbeat_at=utcnow(), **values)


def finish(
    session: Session,
    claimed: Claim,
    result: dict[str, Any] | None,
    *,
    progress: Progress | None = None,
) -> bool:
    """Mark the job done with its result (in the handler's session: one commit for both)."""
    now = utcnow()
    values: dict[str, Any] = {"state": JobState.DONE, "finished_at": now, "heartbeat_at": now}
    values |= {"result": as_json(result, "a job's result"), "error": None}
    return _change(session, claimed, **values, **_progress_values(progress))


def fail(
    session: Session,
    claimed: Claim,
    message: str,
    *,
    result: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> bool:
    now = utcnow()
    values: dict[str, Any] = {"state": JobState.FAILED, "finished_at": now, "heartbeat_at": now}
    values["error"] = message[:MAX_ERROR_LENGTH]
    if result is not None:
        values["result"] = as_json(result, "a job's result")
    return _change(session, claimed, **values, **_progress_values(progress))


def retry_later(session: Session, claimed: Claim, message: str, *, delay: float) -> bool:
    """Queue the job again; the queue gets it back after ``delay`` seconds, once committed."""
    requeued = _change(
        session,
        claimed,
        state=JobState.QUEUED,
        worker=None,
        heartbeat_at=utcnow(),
        error=message[:MAX_ERROR_LENGTH],
    )
    if requeued:
        dispatch_after_commit(session, claimed.job_id, delay)
    return requeued


# The sweep ----------------------------------------------------------------------------------


@dataclass
class SweepReport:
    redispatched: list[int] = field(default_factory=list)  # queued, but the queue lost them
    requeued: list[int] = field(default_factory=list)  # their worker died; run again
    failed: list[int] = field(default_factory=list)  # their worker died on the last attempt


@dataclass(frozen=True)
class Here:
    """Who is sweeping: this host and process, and the jobs this process is running."""

    host: str
    pid: int
    running: Collection[int]


def worker_gone(worker: str | None, job_id: int, here: Here) -> bool:
    """Whether the worker of a job with an old heartbeat has really stopped.

    On this host we can ask: a live process keeps its job even when it cannot write its
    heartbeat (SQLite holds one write lock, and an import keeps it for its whole transaction).
    A worker on another host is taken for dead once its heartbeat is old.
    """
    if not worker:
        return True
    host, _, pid_text = worker.rpartition(":")
    if host != here.host or not pid_text.isdigit():
        return True
    pid = int(pid_text)
    if pid == here.pid:
        return job_id not in here.running
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, someone else's
        return False
    return False


def sweep(
    session: Session, *, stale_after: timedelta, max_attempts: int, here: Here
) -> SweepReport:
    """Queue again the running jobs of dead workers (or fail them on their last attempt) and
    hand back to the queue the queued jobs it seems to have lost."""
    now = utcnow()
    cutoff = now - stale_after
    report = SweepReport()
    stale = session.execute(
        select(Job.id, Job.state, Job.heartbeat_at, Job.worker, Job.attempts).where(
            Job.state.in_([JobState.QUEUED, JobState.RUNNING]),
            or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < cutoff),
        )
    ).all()
    for row in stale:
        if row.state == JobState.RUNNING and not worker_gone(row.worker, row.id, here):
            continue
        seen = (
            Job.heartbeat_at.is_(None)
            if row.heartbeat_at is None
            else Job.heartbeat_at == row.heartbeat_at
        )
        unchanged = (Job.id == row.id) & (Job.state == row.state) & seen
        if row.state == JobState.QUEUED:
            values: dict[str, Any] = {"heartbeat_at": now}
            bucket = report.redispatched
        elif row.attempts >= max_attempts:
            values = {
                "state": JobState.FAILED,
                "finished_at": now,
                "error": f"The worker ({row.worker or 'unknown'}) stopped during attempt "
                f"{row.attempts} of {max_attempts}; no attempts are left.",
            }
            bucket = report.failed
        else:
            values = {
                "state": JobState.QUEUED,
                "worker": None,
                "heartbeat_at": now,
                "error": f"The worker ({row.worker or 'unknown'}) stopped during attempt "
                f"{row.attempts}; queued again.",
            }
            bucket = report.requeued
        changed = session.execute(
            update(Job)
            .where(unchanged)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            continue  # its worker or another sweep got there first
        bucket.append(row.id)
        if bucket is not report.failed:
            dispatch_after_commit(session, row.id)
    session.flush()
    return report
