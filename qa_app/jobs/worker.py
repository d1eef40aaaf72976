"""The worker: huey's consumer running inside the app, with a sweep before it starts."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from huey.consumer import Consumer

from qa_app.jobs.queue import queue_for
from qa_app.jobs.runner import sweep_now

logger = logging.getLogger(__name__)

WORKER_TYPES = ("thread", "process")
MAX_POLL_SECONDS = 1.0  # SQLite is polled (Redis blocks): at most this long from enqueue to start


class EmbeddedConsumer(Consumer):
    """A consumer that leaves the signal handlers of its host (a test run, a benchmark) alone."""

    def _set_signal_handlers(self) -> None:
        return None


def make_consumer(
    app: Flask,
    *,
    workers: int = 1,
    worker_type: str = "thread",
    embedded: bool = False,
    poll_seconds: float = MAX_POLL_SECONDS,
    **options: Any,
) -> Consumer:
    """A consumer of the app's queue; ``embedded`` for one started from a thread."""
    if worker_type not in WORKER_TYPES:
        raise ValueError(f"worker_type must be one of {', '.join(WORKER_TYPES)}")
    queue = queue_for(app)
    if queue.settings.immediate:
        raise RuntimeError("QA_JOBS_IMMEDIATE is on: jobs run in the web process, not a worker")
    if worker_type == "process":
        engine = app.extensions["qa_db_engine"]
        # A forked worker must not share the parent's database connections.
        os.register_at_fork(after_in_child=lambda: engine.dispose(close=False))
    consumer_class = EmbeddedConsumer if embedded else Consumer
    options.setdefault("initial_delay", min(0.1, poll_seconds))
    return consumer_class(
        queue.huey,
        workers=workers,
        worker_type=worker_type,
        max_delay=poll_seconds,
        **options,
    )


def sweep_at_start(app: Flask) -> None:
    """Take back what crashed workers left; if the database is away, the minutely sweep will."""
    try:
        sweep_now(app)
    except Exception:
        logger.exception("the sweep at start failed; the worker starts anyway")


def run_worker(app: Flask, *, workers: int = 1, worker_type: str = "thread") -> None:
    """Sweep once, then consume until SIGINT (finish running jobs) or SIGTERM (stop now)."""
    sweep_at_start(app)
    make_consumer(app, workers=workers, worker_type=worker_type).run()


@contextmanager
def running_worker(app: Flask, **options: Any) -> Iterator[Consumer]:
    """A real consumer in threads of this process, for tests and benchmarks."""
    sweep_at_start(app)
    consumer = make_consumer(app, embedded=True, **options)
    consumer.start()
    try:
        yield consumer
    finally:
        consumer.stop(graceful=True)
