"""Fixtures of the job tests: a real queue on each backend and real workers in threads.

SQLite queues live in the test's temporary folder. Redis queues use database 15 of the local
server under a name of the test's own (both xdist workers share the server), and are flushed
afterwards; the Redis tests are skipped where no server answers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from huey.consumer import Consumer
from sqlalchemy.orm import Session

from qa_app.jobs.models import Job
from qa_app.jobs.queue import Queue, queue_for
from qa_app.jobs.worker import running_worker
from tests.jobs import kinds  # noqa: F401  (registers the test kinds)

REDIS_URL = "redis://127.0.0.1:6379/15"
FAST_SETTINGS: dict[str, Any] = {
    "QA_JOBS_HEARTBEAT_SECONDS": 0.05,
    "QA_JOBS_RETRY_SECONDS": 0.05,
    "QA_JOBS_STALE_SECONDS": 60,
    "QA_JOBS_MAX_ATTEMPTS": 3,
}
# Poll SQLite every 20 ms; check the schedule (retries) every second, huey's shortest.
FAST_WORKER: dict[str, Any] = {"workers": 2, "poll_seconds": 0.02, "initial_delay": 0.01}

_redis_up: bool | None = None


def redis_reachable() -> bool:
    global _redis_up
    if _redis_up is None:
        try:
            _redis_up = bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.3).ping())
        except redis.RedisError:
            _redis_up = False
    return _redis_up


def use_queue(app: Flask, url: str) -> Queue:
    app.config.update(FAST_SETTINGS, QA_JOBS_URL=url, QA_JOBS_NAME=f"test-{uuid.uuid4().hex[:8]}")
    queue = queue_for(app)
    if url.startswith("redis"):
        queue.huey.storage.read_timeout = 0.1  # a stopping worker waits this long at most
    return queue


def drop_queue(app: Flask, queue: Queue) -> None:
    queue.huey.storage.flush_all()  # this test's queue only, not the whole Redis database
    queue.huey.storage.close()
    app.extensions.pop("qa_jobs_queue", None)


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, app: Flask, tmp_path: Path) -> Iterator[Queue]:
    """The app's queue on SQLite, then on Redis."""
    if request.param == "redis" and not redis_reachable():
        pytest.skip(f"no Redis server at {REDIS_URL}")
    url = REDIS_URL if request.param == "redis" else f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    queue = use_queue(app, url)
    yield queue
    drop_queue(app, queue)


@pytest.fixture
def sqlite_queue(app: Flask, tmp_path: Path) -> Iterator[Queue]:
    """The app's queue on SQLite only, for tests of what does not depend on the backend."""
    queue = use_queue(app, f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    yield queue
    drop_queue(app, queue)


@pytest.fixture
def immediate(app: Flask) -> Iterator[None]:
    """QA_JOBS_IMMEDIATE: jobs run in this process when the enqueuing transaction commits."""
    app.config["QA_JOBS_IMMEDIATE"] = True
    yield
    app.extensions.pop("qa_jobs_queue", None)


@pytest.fixture
def start_worker(app: Flask) -> Iterator[Callable[..., Consumer]]:
    """Start a real consumer (threads of this process); stopped at the end of the test."""
    with ExitStack() as stack:

        def start(**options: Any) -> Consumer:
            return stack.enter_context(running_worker(app, **(FAST_WORKER | options)))

        yield start


def wait_for(
    db: Session, job_id: int, check: Callable[[Job], bool], *, timeout: float = 8.0
) -> Job:
    """Poll the job table until ``check`` holds for the job."""
    deadline = time.monotonic() + timeout
    while True:
        db.rollback()  # a fresh look at what workers committed
        db.expire_all()  # (rollback alone expires nothing when no transaction had begun)
        job = db.get(Job, job_id)
        assert job is not None
        if check(job):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is {job.state}: {job.error}")
        time.sleep(0.01)


def finished(job: Job) -> bool:
    return job.state.finished


def wait_until_queue_empty(queue: Queue, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while queue.huey.pending_count() or queue.huey.scheduled_count():
        assert time.monotonic() < deadline, "the queue did not empty"
        time.sleep(0.01)
