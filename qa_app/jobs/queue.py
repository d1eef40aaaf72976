"""The task queue: one Huey per app, built on first use from the QA_JOBS_* settings.

``QA_JOBS_URL`` chooses the backend: ``sqlite:///path`` (SqliteHuey, the default, a file in the
instance folder) or ``redis://host:port/db`` (RedisHuey, for workers on several machines). The
queue carries only job ids; the job table is the truth. A job is handed to the queue only after
the transaction that created it commits (``dispatch_after_commit``), so a worker never looks for
a row it cannot see yet.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Flask, current_app
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from sqlalchemy import event
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

# huey names a task by its module and this name: qa_app.jobs.queue.run_job
RUN_TASK = "run_job"
SWEEP_TASK = "sweep"
SWEEP_EVERY_MINUTE = "* * * * *"
LIVE_KEY = "qa_app.job_progress:{job_id}"
RETRY_CAP_SECONDS = 600.0
_PENDING = "qa_jobs_pending"
_EXTENSION = "qa_jobs_queue"

# Periodic jobs: (setting of the cron expression, job kind). Off while the setting is empty.
SCHEDULES = (
    ("QA_JOBS_SAMPLING_CRON", "run_sampling"),
    ("QA_JOBS_CALIBRATION_CRON", "schedule_calibration"),
)


class JobSettingsError(RuntimeError):
    """A QA_JOBS_* setting that the app cannot start with."""


@dataclass(frozen=True)
class JobSettings:
    url: str
    name: str
    immediate: bool
    heartbeat_seconds: float
    stale_seconds: float
    max_attempts: int
    retry_seconds: float
    schedules: tuple[tuple[str, str], ...]  # (job kind, cron expression), only those switched on

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> JobSettings:
        def number(name: str) -> float:
            try:
                value = float(config[name])
            except (TypeError, ValueError) as error:
                raise JobSettingsError(f"{name} must be a number, not {config[name]!r}") from error
            if not math.isfinite(value) or value <= 0:
                raise JobSettingsError(f"{name} must be above 0, not {config[name]!r}")
            return value

        immediate = config["QA_JOBS_IMMEDIATE"]
        if isinstance(immediate, str):
            immediate = immediate.strip().lower() in {"1", "true", "yes", "on"}
        schedules = tuple(
            (kind, str(config[setting]).strip())
            for setting, kind in SCHEDULES
            if str(config.get(setting) or "").strip()
        )
        return cls(
            url=str(config["QA_JOBS_URL"]),
            name=str(config["QA_JOBS_NAME"]),
            immediate=bool(immediate),
            heartbeat_seconds=number("QA_JOBS_HEARTBEAT_SECONDS"),
            stale_seconds=number("QA_JOBS_STALE_SECONDS"),
            max_attempts=max(1, int(number("QA_JOBS_MAX_ATTEMPTS"))),
            retry_seconds=number("QA_JOBS_RETRY_SECONDS"),
            schedules=schedules,
        )


def parse_cron(expression: str) -> Callable[[datetime], bool]:
    """A five-field cron expression (minute hour day month weekday, in UTC) as huey's test."""
    fields = expression.split()
    if len(fields) != 5:
        raise JobSettingsError(
            f"{expression!r} is not a cron expression: give minute hour day month weekday,"
            " e.g. '0 6 * * 1' for Mondays at 06:00 UTC"
        )
    minute, hour, day, month, weekday = fields
    try:
        test: Callable[[datetime], bool] = crontab(
            minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, strict=True
        )
    except ValueError as error:
        raise JobSettingsError(f"{expression!r} is not a cron expression: {error}") from error
    return test


def check_settings(app: Flask) -> JobSettings:
    """Refuse at start-up what would fail later: unknown backends, bad cron expressions."""
    settings = JobSettings.from_config(app.config)
    if not settings.url.startswith(("sqlite:///", "redis://", "rediss://", "unix://")):
        raise JobSettingsError(
            f"QA_JOBS_URL must start with sqlite:/// or redis://, not {settings.url!r}"
        )
    for _kind, expression in settings.schedules:
        parse_cron(expression)
    if settings.immediate and app.config.get("QA_ENV") == "production":
        # A long import would run inside the web request and be killed by the server's timeout.
        raise JobSettingsError("QA_JOBS_IMMEDIATE is for tests and development, not production")
    return settings


def describe_url(url: str) -> str:
    """The queue's URL without a password, for logs and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def make_huey(settings: JobSettings) -> Huey:
    """The backend named by the URL; in immediate mode huey keeps its queue in memory."""
    common: dict[str, Any] = {"results": False, "immediate": settings.immediate, "utc": True}
    if settings.url.startswith("sqlite:///"):
        filename = Path(settings.url.removeprefix("sqlite:///"))
        if not settings.immediate:
            filename.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(settings.name, filename=str(filename), **common)
    return RedisHuey(settings.name, url=settings.url, **common)


class Queue:
    """An app's huey with its tasks: run a job, sweep stale jobs, start scheduled jobs."""

    def __init__(self, app: Flask, settings: JobSettings) -> None:
        self.settings = settings
        self.huey = make_huey(settings)
        self.run_task: TaskWrapper = self.huey.task(name=RUN_TASK)(_run_job_task(app))
        self.huey.periodic_task(parse_cron(SWEEP_EVERY_MINUTE), name=SWEEP_TASK)(_sweep_task(app))
        for kind, expression in settings.schedules:
            self.huey.periodic_task(parse_cron(expression), name=f"every_{kind}")(
                _scheduled_task(app, kind)
            )

    def dispatch(self, job_id: int, delay: float | None = None) -> None:
        if delay:
            self.run_task.schedule(args=(job_id,), delay=delay)
        else:
            self.run_task(job_id)

    # Live progress, beside the job table: a handler that holds SQLite's one write lock for a
    # whole import (the importer's single transaction) keeps the job row from being updated
    # until it commits, but the queue's own store is another file (or Redis).

    def put_live(self, job_id: int, progress: dict[str, Any]) -> None:
        self.huey.put(LIVE_KEY.format(job_id=job_id), progress)

    def live(self, job_id: int) -> dict[str, Any] | None:
        value = self.huey.get(LIVE_KEY.format(job_id=job_id), peek=True)
        return value if isinstance(value, dict) else None

    def drop_live(self, job_id: int) -> None:
        self.huey.delete(LIVE_KEY.format(job_id=job_id))


def _run_job_task(app: Flask) -> Callable[[int], None]:
    def run_job(job_id: int) -> None:
        from qa_app.jobs.runner import run_job as run

        run(app, job_id)

    return run_job


def _sweep_task(app: Flask) -> Callable[[], None]:
    def sweep() -> None:
        from qa_app.jobs.runner import sweep_now

        sweep_now(app)

    return sweep


def _scheduled_task(app: Flask, kind: str) -> Callable[[], None]:
    def start_scheduled() -> None:
        from qa_app.jobs.runner import start_scheduled_job

        start_scheduled_job(app, kind)

    return start_scheduled


def queue_for(app: Flask) -> Queue:
    """The app's queue, built on first use and again when its QA_JOBS_* settings change."""
    settings = JobSettings.from_config(app.config)
    cached: Queue | None = app.extensions.get(_EXTENSION)
    if cached is None or cached.settings != settings:
        cached = Queue(app, settings)
        app.extensions[_EXTENSION] = cached
    return cached


def current_queue() -> Queue:
    return queue_for(current_app._get_current_object())  # type: ignore[attr-defined]


# Dispatch after commit -----------------------------------------------------------------------


def dispatch_after_commit(session: Session, job_id: int, delay: float | None = None) -> None:
    """Hand the job to the queue once ``session`` commits; forget it if it rolls back."""
    session.info.setdefault(_PENDING, []).append((current_queue(), job_id, delay))


@event.listens_for(Session, "after_commit")
def _dispatch_pending(session: Session) -> None:
    for queue, job_id, delay in session.info.pop(_PENDING, []):
        try:
            queue.dispatch(job_id, delay)
        except Exception:  # the commit stands; the sweep hands the job over again later
            logger.exception(
                "job %s could not be handed to the queue; the sweep will retry", job_id
            )


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
