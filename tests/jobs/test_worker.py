"""Jobs through a real worker on each backend: SqliteHuey in a file and RedisHuey."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from huey.consumer import Consumer
from sqlalchemy.orm import Session

from qa_app.db import utcnow
from qa_app.jobs import services
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.queue import Queue
from qa_app.org.roles import Role
from tests.conftest import Factory
from tests.jobs import kinds
from tests.jobs.conftest import finished, wait_for, wait_until_queue_empty

StartWorker = Callable[..., Consumer]


def enqueue(app: Flask, db: Session, kind: str, params: dict[str, Any], by: Any = None) -> Job:
    with app.app_context():
        job = services.enqueue(db, kind, params, by=by)
    db.commit()
    return job


def test_a_job_reaches_the_queue_only_once_committed(
    app: Flask, db: Session, backend: Queue
) -> None:
    with app.app_context():
        services.enqueue(db, kinds.STEPS, {}, by=None)
        db.flush()
        assert backend.huey.pending_count() == 0
        db.rollback()
        assert backend.huey.pending_count() == 0
        job = services.enqueue(db, kinds.STEPS, {}, by=None)
    db.commit()
    assert backend.huey.pending_count() == 1
    assert db.get(Job, job.id).state == JobState.QUEUED  # type: ignore[union-attr]


def test_job_goes_queued_running_done_with_progress(
    app: Flask, db: Session, make: Factory, backend: Queue, start_worker: StartWorker
) -> None:
    manager = make.user(Role.MANAGER)
    name = uuid.uuid4().hex
    job = enqueue(app, db, kinds.STEPS, {"gate": name, "echo": "hello"}, by=manager)
    assert job.state == JobState.QUEUED
    assert job.started_by_id == manager.id

    start_worker()
    running = wait_for(db, job.id, lambda j: j.state == JobState.RUNNING and j.progress_done == 1)
    assert (running.progress_total, running.progress_note, running.percent) == (3, "first step", 33)
    assert running.worker is not None
    assert running.worker.startswith(socket.gethostname())
    assert backend.live(job.id) == {"done": 1, "total": 3, "note": "first step"}
    kinds.gate(name).set()

    done = wait_for(db, job.id, finished)
    assert done.state == JobState.DONE, done.error
    assert done.result == {"steps": 3, "echo": "hello"}
    assert (done.progress_done, done.progress_total, done.progress_note) == (3, 3, "all steps")
    assert done.percent == 100
    assert done.attempts == 1
    assert done.error is None
    assert done.started_at
    assert done.finished_at
    assert done.started_at <= done.finished_at
    assert backend.live(job.id) is None


def test_a_done_job_is_not_run_again(
    app: Flask, db: Session, backend: Queue, start_worker: StartWorker
) -> None:
    jobs = [enqueue(app, db, kinds.STEPS, {"echo": number}) for number in range(4)]
    start_worker()
    for job in jobs:
        assert wait_for(db, job.id, finished).state == JobState.DONE
    first_finish = {job.id: wait_for(db, job.id, finished).finished_at for job in jobs}
    for job in jobs:  # the queue delivers a job twice, or the sweep hands it over again
        backend.dispatch(job.id)
    wait_until_queue_empty(backend)
    for job in jobs:
        again = wait_for(db, job.id, finished)
        assert (again.attempts, again.finished_at) == (1, first_finish[job.id])


@pytest.mark.parametrize(
    ("kind", "message", "result"),
    [
        (kinds.BAD_INPUT, "column 'agent' is missing", {"line": 3}),
        (kinds.INVALID, "the plan has no reviewers", None),
        (kinds.BROKEN, "Unexpected error (RuntimeError: a bug in the handler)", None),
    ],
)
def test_bad_input_fails_the_job_at_once_without_retry(
    app: Flask,
    db: Session,
    backend: Queue,
    start_worker: StartWorker,
    kind: str,
    message: str,
    result: dict[str, Any] | None,
) -> None:
    job = enqueue(app, db, kind, {})
    start_worker()
    failed = wait_for(db, job.id, finished)
    assert failed.state == JobState.FAILED
    assert failed.error is not None
    assert failed.error.startswith(message)
    assert failed.result == result
    assert failed.attempts == 1
    assert backend.huey.scheduled_count() == 0  # no retry waiting


def test_transient_error_is_retried_with_backoff_then_succeeds(
    app: Flask, db: Session, backend: Queue, start_worker: StartWorker
) -> None:
    job = enqueue(app, db, kinds.FLAKY, {"fail_times": 1})
    start_worker()
    done = wait_for(db, job.id, finished)
    assert done.state == JobState.DONE, done.error
    assert done.attempts == 2
    assert done.error is None
    previous = done.result["previous_error"]  # type: ignore[index]
    assert previous.startswith("Attempt 1 of 3 failed (OperationalError:")
    assert "retrying in" in previous


def test_transient_errors_give_up_after_the_last_attempt(
    app: Flask, db: Session, backend: Queue, start_worker: StartWorker
) -> None:
    app.config["QA_JOBS_MAX_ATTEMPTS"] = 2
    job = enqueue(app, db, kinds.FLAKY, {"fail_times": 5})
    start_worker()
    failed = wait_for(db, job.id, finished)
    assert failed.state == JobState.FAILED
    assert failed.attempts == 2
    assert failed.error is not None
    assert failed.error.startswith("Gave up after attempt 2 of 2")


def test_a_crashed_workers_job_is_swept_and_run_again(
    app: Flask, db: Session, backend: Queue, start_worker: StartWorker
) -> None:
    long_ago = utcnow() - timedelta(hours=1)
    crashed = Job(
        kind=kinds.STEPS,
        parameters={"echo": "again"},
        state=JobState.RUNNING,
        attempts=1,
        worker="a-host-that-crashed:4242",
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    db.add(crashed)
    db.commit()
    start_worker()  # sweeps before it starts consuming
    done = wait_for(db, crashed.id, finished)
    assert done.state == JobState.DONE
    assert done.attempts == 2
    assert done.result == {"steps": 3, "echo": "again"}
