"""`flask worker`: run background jobs (a Huey consumer inside the app)."""

from __future__ import annotations

import logging

import click
from flask import current_app
from flask.cli import with_appcontext

from qa_app.jobs.queue import describe_url, queue_for
from qa_app.jobs.worker import WORKER_TYPES, run_worker


@click.command("worker")
@with_appcontext
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Jobs run at once by this process.",
)
@click.option(
    "--worker-type",
    type=click.Choice(WORKER_TYPES),
    default="thread",
    show_default=True,
    help="Threads share one process; processes use every core (forked, Linux and macOS).",
)
def worker(workers: int, worker_type: str) -> None:
    """Run queued and scheduled jobs until stopped (Ctrl-C lets running jobs finish)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    queue = queue_for(app)
    if queue.settings.immediate:
        raise click.UsageError("QA_JOBS_IMMEDIATE is on: jobs run in the web process; no worker.")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduled = ", ".join(f"{kind} ({cron})" for kind, cron in queue.settings.schedules)
    click.echo(
        f"Worker on {describe_url(queue.settings.url)} with {workers} {worker_type}(s);"
        f" scheduled jobs: {scheduled or 'none'}."
    )
    run_worker(app, workers=workers, worker_type=worker_type)
