"""Job kinds for the tests: steps behind a gate, bad input, a flaky database, a bug."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from qa_app.jobs.errors import JobInputError
from qa_app.jobs.models import Job
from qa_app.jobs.registry import JobContext, register_kind

STEPS, BAD_INPUT, INVALID, FLAKY, BROKEN = (
    "test_steps",
    "test_bad_input",
    "test_invalid",
    "test_flaky",
    "test_broken",
)
_gates: dict[str, threading.Event] = {}


def gate(name: str) -> threading.Event:
    """An event that a ``test_steps`` job with ``{"gate": name}`` waits for after its first step."""
    return _gates.setdefault(name, threading.Event())


class FeatureValidationError(ValueError):
    """Stands for a feature's own validation error (SamplingError, ImportFailed...)."""


def steps(session: Session, job: JobContext) -> dict[str, Any]:
    job.progress(1, 3, "first step")
    if job.params.get("gate"):
        assert gate(job.params["gate"]).wait(10), "the test never opened the gate"
    job.progress(3, 3, "all steps")
    return {"steps": 3, "echo": job.params.get("echo")}


def bad_input(session: Session, job: JobContext) -> None:
    raise JobInputError("column 'agent' is missing", result={"line": 3})


def invalid(session: Session, job: JobContext) -> None:
    raise FeatureValidationError("the plan has no reviewers")


def flaky(session: Session, job: JobContext) -> dict[str, Any]:
    """Loses its database connection on the first ``fail_times`` attempts."""
    if job.attempt <= int(job.params["fail_times"]):
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
    previous_error = session.scalar(select(Job.error).where(Job.id == job.job_id))
    return {"attempt": job.attempt, "previous_error": previous_error}


def broken(session: Session, job: JobContext) -> None:
    raise RuntimeError("a bug in the handler")


register_kind(STEPS, steps, label="Test steps")
register_kind(BAD_INPUT, bad_input, label="Test bad input")
register_kind(INVALID, invalid, label="Test invalid", input_errors=(FeatureValidationError,))
register_kind(FLAKY, flaky, label="Test flaky")
register_kind(BROKEN, broken, label="Test broken")
