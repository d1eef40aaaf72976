"""What a worker does with a job id: claim the job, run its handler, keep the outcome.

The handler runs in a session of its own. A monitor thread beside it writes the heartbeat and
the progress in short transactions of their own; the progress callback only hands it the figures
(and puts them in the queue's store for the pages), because on SQLite the handler's transaction
may hold the one write lock, and a callback committing on the handler's thread would wait for
itself. Bad input fails the job at once; a lost database connection is retried with backoff.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from qa_app.db import utcnow
from qa_app.jobs import services
from qa_app.jobs.errors import JobInputError
from qa_app.jobs.progress import Throttle, retry_delay
from qa_app.jobs.queue import RETRY_CAP_SECONDS, Queue, queue_for
from qa_app.jobs.registry import JobContext, JobKind, kind_for

logger = logging.getLogger(__name__)

LIVE_INTERVAL = 0.25  # seconds between live progress updates in the queue's store
WRITE_GAP = 0.5  # the fewest seconds between two progress writes to the job table
SHORT_LOCK_WAIT_MS = 200  # how long the monitor waits for SQLite's write lock before skipping

_running: set[int] = set()
_running_lock = threading.Lock()

Progress = tuple[int, int | None, str | None]


def worker_id() -> str:
    """``host:pid`` of this process (read each time: a forked worker has a pid of its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def running_here() -> frozenset[int]:
    with _running_lock:
        return frozenset(_running)


def is_transient(error: BaseException) -> bool:
    """Failures that a later attempt may not meet: the database went away or was locked."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    transient = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,  # no connection free in the pool
        ConnectionError,
        TimeoutError,
    )
    return isinstance(error, transient)


class Monitor:
    """Writes the heartbeat every ``heartbeat`` seconds, and the progress soon after it moves."""

    def __init__(self, app: Flask, queue: Queue, claimed: services.Claim) -> None:
        self.app, self.queue, self.claimed = app, queue, claimed
        self.heartbeat = queue.settings.heartbeat_seconds
        self.progress: Progress = (0, None, None)
        self._lock = threading.Lock()
        self._wake, self._stop = threading.Event(), threading.Event()
        self._live = Throttle(LIVE_INTERVAL, time.monotonic)
        self._thread = threading.Thread(
            target=self._loop, name=f"job-{claimed.job_id}-monitor", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop and wait for the thread (again: no effect)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def report(self, done: int, total: int | None, note: str | None) -> None:
        with self._lock:
            self.progress = (done, total, note)
        if self._live.ready():
            try:
                self.queue.put_live(
                    self.claimed.job_id, {"done": done, "total": total, "note": note}
                )
            except Exception:  # the pages fall back on the job table
                logger.debug(
                    "live progress of job %s not stored", self.claimed.job_id, exc_info=True
                )
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.heartbeat)
            self._wake.clear()
            if self._stop.is_set():
                return
            self._write()
            self._stop.wait(min(WRITE_GAP, self.heartbeat))

    def _write(self) -> None:
        with self._lock:
            done, total, note = self.progress
        engine = self.app.extensions["qa_db_engine"]
        try:
            with engine.connect() as connection, _short_lock_wait(connection):
                ours = services.record_progress(connection, self.claimed, done, total, note)
                connection.commit()
        except sa_exc.SQLAlchemyError:
            logger.debug("heartbeat of job %s skipped", self.claimed.job_id, exc_info=True)
            return
        if not ours:
            logger.warning("job %s is no longer this worker's attempt", self.claimed.job_id)


@contextmanager
def _short_lock_wait(connection: Connection) -> Iterator[None]:
    """On SQLite, give up on the write lock quickly (the next heartbeat tries again)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {SHORT_LOCK_WAIT_MS}")
    try:
        yield
    finally:
        connection.rollback()
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(before or 0)}")


def run_job(app: Flask, job_id: int) -> None:
    """The queue's task: run job ``job_id`` if it is still queued (a done job never runs again)."""
    with app.app_context():
        sessions = app.extensions["qa_db_sessionmaker"]
        try:
            with sessions() as session:
                claimed = services.claim(session, job_id, worker=worker_id())
                session.commit()
        except Exception as error:
            if not is_transient(error):
                raise
            logger.warning(
                "job %s could not be claimed (%s); the sweep hands it over again", job_id, error
            )
            return
        if claimed is None:
            logger.info("job %s is not queued (done, or taken by another worker)", job_id)
            return
        with _running_lock:
            _running.add(job_id)
        try:
            _execute(app, queue_for(app), claimed)
        finally:
            with _running_lock:
                _running.discard(job_id)


def _execute(app: Flask, queue: Queue, claimed: services.Claim) -> None:
    sessions = app.extensions["qa_db_sessionmaker"]
    monitor = Monitor(app, queue, claimed)
    monitor.start()
    kind: JobKind | None = None
    try:
        kind = kind_for(claimed.kind)
        context = JobContext(
            claimed.job_id,
            claimed.kind,
            claimed.params,
            claimed.started_by_id,
            claimed.attempt,
            monitor.report,
        )
        with sessions() as work:
            result = kind.handler(work, context)
            monitor.stop()  # before the outcome: no heartbeat may follow it
            if not services.finish(work, claimed, result, progress=monitor.progress):
                logger.warning("job %s finished, but the sweep had taken it back", claimed.job_id)
            work.commit()
    except Exception as error:
        monitor.stop()
        _record(sessions, _failure(queue, claimed, kind, error, monitor.progress))
    finally:
        monitor.stop()
        try:
            queue.drop_live(claimed.job_id)
        except Exception:
            logger.debug("live progress of job %s not dropped", claimed.job_id, exc_info=True)


def _failure(
    queue: Queue,
    claimed: services.Claim,
    kind: JobKind | None,
    error: Exception,
    progress: Progress,
) -> Callable[[Session], object]:
    """What to write for a failed attempt: fail now, or queue again after a backoff."""
    settings = queue.settings
    input_errors: tuple[type[BaseException], ...] = (
        JobInputError,
        *(kind.input_errors if kind else ()),
    )
    if kind is None or isinstance(error, input_errors):
        message = str(getattr(error, "message", None) or error)
        result = getattr(error, "result", None)
        return lambda s: services.fail(s, claimed, message, result=result, progress=progress)
    described = f"{type(error).__name__}: {error}"
    if not is_transient(error):
        logger.exception("job %s (%s) failed", claimed.job_id, claimed.kind, exc_info=error)
        message = f"Unexpected error ({described}); the worker's log has the details."
        return lambda s: services.fail(s, claimed, message, progress=progress)
    if settings.immediate or claimed.attempt >= settings.max_attempts:
        message = f"Gave up after attempt {claimed.attempt} of {settings.max_attempts}: {described}"
        return lambda s: services.fail(s, claimed, message, progress=progress)
    delay = retry_delay(claimed.attempt, base=settings.retry_seconds, cap=RETRY_CAP_SECONDS)
    logger.warning("job %s: %s; retrying in %.1f s", claimed.job_id, described, delay)
    message = (
        f"Attempt {claimed.attempt} of {settings.max_attempts} failed ({described});"
        f" retrying in {delay:.0f} s."
    )
    return lambda s: services.retry_later(s, claimed, message, delay=delay)


def _record(sessions: Callable[[], Session], change: Callable[[Session], object]) -> None:
    try:
        with sessions() as session:
            change(session)
            session.commit()
    except Exception:  # the job stays "running" without a heartbeat: the sweep takes it back
        logger.exception("the outcome of a job could not be recorded")


def sweep_now(app: Flask) -> services.SweepReport:
    """Take back the jobs of dead workers and the queued jobs the queue lost; commits."""
    with app.app_context():
        settings = queue_for(app).settings
        here = services.Here(socket.gethostname(), os.getpid(), running_here())
        with app.extensions["qa_db_sessionmaker"]() as session:
            report = services.sweep(
                session,
                stale_after=timedelta(seconds=settings.stale_seconds),
                max_attempts=settings.max_attempts,
                here=here,
            )
            session.commit()
    if report.requeued or report.failed or report.redispatched:
        logger.warning(
            "sweep: requeued %s, failed %s, handed over again %s",
            report.requeued,
            report.failed,
            report.redispatched,
        )
    return report


def start_scheduled_job(app: Flask, kind: str) -> int | None:
    """Enqueue this minute's job of a periodic kind, once however many workers ask."""
    minute = utcnow().replace(second=0, microsecond=0)
    key = f"{kind}@{minute:%Y-%m-%dT%H:%MZ}"
    params: dict[str, Any] = {"scheduled_for": minute.isoformat()}
    with app.app_context(), app.extensions["qa_db_sessionmaker"]() as session:
        if services.job_with_key(session, key) is not None:
            return None
        try:
            job = services.enqueue(session, kind, params, by=None, key=key)
            session.commit()
        except sa_exc.IntegrityError:  # another worker enqueued it meanwhile
            session.rollback()
            return None
        return job.id
