"""Background jobs on a task queue (Huey): the job table, the worker, pages, API and CLI."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Check the QA_JOBS_* settings and add `flask worker`; the queue itself opens on first use."""
    from qa_app.jobs.cli import worker
    from qa_app.jobs.queue import check_settings

    check_settings(app)
    app.cli.add_command(worker)
