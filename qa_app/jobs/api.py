"""/api/v1/jobs/<id>: a background job's state, progress and outcome, as on its page."""

from __future__ import annotations

from typing import Annotated

from flask import url_for
from pydantic import Field

from qa_app.api.auth import api_user
from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.formats import Moment, Url
from qa_app.api.models import Answer, JsonObject, PersonRef
from qa_app.db import get_session
from qa_app.jobs import models
from qa_app.jobs.models import JobState
from qa_app.jobs.queries import ProgressView, progress_view, public_parameters, visible_job
from qa_app.jobs.queue import current_queue
from qa_app.jobs.registry import kind_label
from qa_app.org.roles import Role
from qa_app.service_errors import NotFound

NOT_YOURS = "There is no such job, or it is not yours to see."


class JobProgress(Answer):
    done: int
    total: int | None
    percent: Annotated[int, Field(ge=0, le=100)] | None
    note: str | None


class Job(Answer):
    """A background job (docs/api.md, Jobs)."""

    id: int
    kind: str = Field(description="e.g. import_conversations, run_sampling, schedule_calibration")
    kind_label: str
    state: JobState
    started_by: PersonRef | None = Field(description="null for a scheduled job")
    parameters: JsonObject = Field(
        description="What the job was asked to do (private parameters left out)."
    )
    progress: JobProgress
    result: JsonObject | None = Field(
        description="The job's summary (an import's counts); set when done, and for some failures."
    )
    error: str | None = Field(
        description="Why it failed, or why the last attempt failed while a retry waits."
    )
    attempts: int
    created_at: Moment
    started_at: Moment | None
    finished_at: Moment | None
    heartbeat_at: Moment | None
    url: Url
    page_url: Url


def job_answer(job: models.Job, progress: ProgressView) -> Job:
    """Expects started_by loaded."""
    starter = job.started_by
    return Job(
        id=job.id,
        kind=job.kind,
        kind_label=kind_label(job.kind),
        state=job.state,
        started_by=None if starter is None else PersonRef(id=starter.id, name=starter.name),
        parameters=public_parameters(job.parameters or {}),
        progress=JobProgress(
            done=progress.done,
            total=progress.total,
            percent=progress.percent,
            note=progress.note,
        ),
        result=job.result,
        error=job.error,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        heartbeat_at=job.heartbeat_at,
        url=url_for("api.get_job", job_id=job.id, _external=True),
        page_url=url_for("jobs.job", job_id=job.id, _external=True),
    )


@bp.get("/jobs/<int:job_id>")
@endpoint(frozenset(Role), operation_id="getJob", tag="jobs", answers={200: Job}, errors=[404])
def get_job(job_id: int) -> Job:
    """A background job: its state, progress and outcome.

    Administrators and managers see every job; anyone else only the jobs they started (others
    answer 404). Poll it while state is queued or running.
    """
    job = visible_job(get_session(), api_user(), job_id)
    if job is None:
        raise NotFound(NOT_YOURS)
    queue = current_queue() if job.state == JobState.RUNNING else None
    return job_answer(job, progress_view(job, queue))
