"""Job services without a worker: enqueue, the sweep, scheduled jobs, settings, immediate mode."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.db import utcnow
from qa_app.jobs import services
from qa_app.jobs.errors import JobError, UnknownJobKind
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.progress import Throttle, percent, retry_delay
from qa_app.jobs.queue import (
    JobSettingsError,
    Queue,
    check_settings,
    describe_url,
    parse_cron,
    queue_for,
)
from qa_app.jobs.runner import start_scheduled_job
from tests.jobs import kinds

STALE = timedelta(minutes=5)
HOST = socket.gethostname()


def test_enqueue_refuses_an_unknown_kind_and_parameters_that_are_not_json(
    app: Flask, db: Session, sqlite_queue: Queue
) -> None:
    with app.app_context():
        with pytest.raises(UnknownJobKind):
            services.enqueue(db, "no_such_kind", {}, by=None)
        with pytest.raises(JobError, match="must be JSON"):
            services.enqueue(db, kinds.STEPS, {"when": datetime.now(UTC)}, by=None)
    assert db.scalar(select(func.count()).select_from(Job)) == 0


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def live_pid() -> int:
    return os.getppid()  # the test runner's parent: alive for as long as the test runs


@pytest.mark.parametrize(
    ("worker", "age", "attempts", "running_here", "expected"),
    [
        ("elsewhere:17", timedelta(hours=1), 1, False, JobState.QUEUED),
        ("elsewhere:17", timedelta(hours=1), 3, False, JobState.FAILED),  # the last attempt
        ("elsewhere:17", timedelta(seconds=5), 1, False, JobState.RUNNING),  # heartbeat fresh
        (None, timedelta(hours=1), 1, False, JobState.QUEUED),
        ("dead", timedelta(hours=1), 1, False, JobState.QUEUED),
        ("live", timedelta(hours=1), 1, False, JobState.RUNNING),  # silent, but its process lives
        ("self", timedelta(hours=1), 1, False, JobState.QUEUED),  # this process lost track of it
        ("self", timedelta(hours=1), 1, True, JobState.RUNNING),  # this process runs it
    ],
)
def test_sweep_takes_back_the_running_jobs_of_dead_workers(
    app: Flask,
    db: Session,
    sqlite_queue: Queue,
    worker: str | None,
    age: timedelta,
    attempts: int,
    running_here: bool,
    expected: JobState,
) -> None:
    pids = {"dead": dead_pid, "live": live_pid, "self": os.getpid}
    if worker in pids:
        worker = f"{HOST}:{pids[worker]()}"
    job = Job(
        kind=kinds.STEPS,
        state=JobState.RUNNING,
        attempts=attempts,
        worker=worker,
        heartbeat_at=utcnow() - age,
    )
    db.add(job)
    db.commit()
    here = services.Here(HOST, os.getpid(), {job.id} if running_here else set())
    with app.app_context():
        report = services.sweep(db, stale_after=STALE, max_attempts=3, here=here)
    db.commit()
    db.refresh(job)
    assert job.state == expected
    assert (job.id in report.requeued) == (expected == JobState.QUEUED)
    assert (job.id in report.failed) == (expected == JobState.FAILED)
    if expected == JobState.QUEUED:
        assert job.worker is None
        assert "queued again" in (job.error or "")
        assert sqlite_queue.huey.pending_count() == 1  # handed to the queue again
    if expected == JobState.FAILED:
        assert "no attempts are left" in (job.error or "")
        assert job.finished_at is not None


def test_sweep_hands_a_long_queued_job_to_the_queue_again(
    app: Flask, db: Session, sqlite_queue: Queue
) -> None:
    old, recent = (
        Job(kind=kinds.STEPS, heartbeat_at=utcnow() - age)
        for age in (timedelta(hours=1), STALE / 2)
    )
    db.add_all([old, recent])
    db.commit()
    with app.app_context():
        report = services.sweep(
            db, stale_after=STALE, max_attempts=3, here=services.Here(HOST, 1, ())
        )
    db.commit()
    assert report.redispatched == [old.id]
    assert sqlite_queue.huey.pending_count() == 1
    db.refresh(old)
    assert old.state == JobState.QUEUED
    assert old.heartbeat_at is not None
    assert old.heartbeat_at > utcnow() - timedelta(minutes=1)


def test_a_scheduled_job_is_enqueued_once_per_minute_however_many_workers_ask(
    app: Flask, db: Session, sqlite_queue: Queue
) -> None:
    first = start_scheduled_job(app, kinds.STEPS)
    second = start_scheduled_job(app, kinds.STEPS)
    assert first is not None
    assert second is None
    job = db.get(Job, first)
    assert job is not None
    assert job.started_by_id is None
    assert job.key is not None
    assert job.key.startswith(f"{kinds.STEPS}@")
    assert datetime.fromisoformat(job.parameters["scheduled_for"]).second == 0
    assert sqlite_queue.huey.pending_count() == 1


def test_immediate_mode_runs_the_job_when_the_transaction_commits(
    app: Flask, db: Session, immediate: None
) -> None:
    with app.app_context():
        done = services.enqueue(db, kinds.STEPS, {"echo": 1}, by=None)
        flaky = services.enqueue(db, kinds.FLAKY, {"fail_times": 1}, by=None)
    db.commit()
    db.expire_all()
    assert (done.state, done.result) == (JobState.DONE, {"steps": 3, "echo": 1})
    # No worker, no schedule: a transient error is not retried later, it fails now.
    assert flaky.state == JobState.FAILED
    assert flaky.attempts == 1


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"QA_JOBS_URL": "amqp://localhost"}, "must start with sqlite:/// or redis://"),
        ({"QA_JOBS_SAMPLING_CRON": "every monday"}, "not a cron expression"),
        ({"QA_JOBS_CALIBRATION_CRON": "0 25 * * *"}, "not a cron expression"),
        ({"QA_JOBS_HEARTBEAT_SECONDS": "0"}, "must be above 0"),
        ({"QA_JOBS_IMMEDIATE": "true", "QA_ENV": "production"}, "not production"),
    ],
)
def test_bad_job_settings_stop_the_app_at_start(
    app: Flask, settings: dict[str, Any], message: str
) -> None:
    app.config.update(settings)
    with pytest.raises(JobSettingsError, match=message):
        check_settings(app)


def test_cron_settings_add_periodic_tasks(app: Flask, tmp_path: Any) -> None:
    app.config.update(
        QA_JOBS_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        QA_JOBS_SAMPLING_CRON="0 6 * * 1",
        QA_JOBS_CALIBRATION_CRON="0 6 1 * *",
    )
    names = set(queue_for(app).huey._registry._registry)
    prefix = "qa_app.jobs.queue."
    expected = {"run_job", "sweep", "every_run_sampling", "every_schedule_calibration"}
    assert names == {prefix + name for name in expected}
    weekly = parse_cron("0 6 * * 1")
    assert weekly(datetime(2026, 11, 23, 6, 0))
    assert not weekly(datetime(2026, 11, 24, 6, 0))


def test_scheduled_jobs_are_off_by_default(app: Flask) -> None:
    assert app.config["QA_JOBS_SAMPLING_CRON"] == app.config["QA_JOBS_CALIBRATION_CRON"] == ""
    assert not app.config["QA_JOBS_IMMEDIATE"]


def test_percent_and_backoff() -> None:
    assert [percent(done, 3) for done in (0, 1, 3, 4)] == [0, 33, 100, 100]
    assert percent(5, None) is None
    assert percent(5, 0) is None
    delays = [retry_delay(attempt, base=10, cap=600, rand=lambda: 1.0) for attempt in (1, 2, 3)]
    assert delays == [10, 20, 40]
    assert retry_delay(1, base=10, cap=600, rand=lambda: 0.0) == 5  # never sooner than half
    assert retry_delay(30, base=10, cap=600, rand=lambda: 1.0) == 600
    clock = iter([0.0, 0.1, 0.6]).__next__
    throttle = Throttle(0.5, clock)
    assert [throttle.ready(), throttle.ready(), throttle.ready()] == [True, False, True]


def test_the_queue_url_is_shown_without_its_password() -> None:
    assert describe_url("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert describe_url("sqlite:////srv/qa/jobs.sqlite3") == "sqlite:////srv/qa/jobs.sqlite3"


def test_worker_command_refuses_to_run_in_immediate_mode(app: Flask, immediate: None) -> None:
    result = app.test_cli_runner().invoke(args=["worker"])
    assert result.exit_code == 2
    assert "QA_JOBS_IMMEDIATE is on" in result.output
