"""/api/v1/jobs/<id>: a background job's state, progress and outcome, as on its page."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for

from qa_app.api.auth import api_roles, api_user
from qa_app.api.blueprint import bp
from qa_app.api.errors import ApiError
from qa_app.api.formats import iso
from qa_app.db import get_session
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.queries import ProgressView, progress_view, public_parameters, visible_job
from qa_app.jobs.queue import current_queue
from qa_app.jobs.registry import kind_label
from qa_app.org.roles import Role

NOT_YOURS = "There is no such job, or it is not yours to see."


def job_detail(job: Job, progress: ProgressView) -> dict[str, Any]:
    """Expects started_by loaded."""
    starter = job.started_by
    return {
        "id": job.id,
        "kind": job.kind,
        "kind_label": kind_label(job.kind),
        "state": job.state.value,
        "started_by": None if starter is None else {"id": starter.id, "name": starter.name},
        "parameters": public_parameters(job.parameters or {}),
        "progress": {
            "done": progress.done,
            "total": progress.total,
            "percent": progress.percent,
            "note": progress.note,
        },
        "result": job.result,
        "error": job.error,
        "attempts": job.attempts,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at),
        "heartbeat_at": iso(job.heartbeat_at),
        "url": url_for("api.get_job", job_id=job.id, _external=True),
        "page_url": url_for("jobs.job", job_id=job.id, _external=True),
    }


@bp.get("/jobs/<int:job_id>")
@api_roles(frozenset(Role))
def get_job(job_id: int) -> Response:
    """One job: administrators and managers see every job, anyone else the jobs they started."""
    job = visible_job(get_session(), api_user(), job_id)
    if job is None:
        raise ApiError(404, NOT_YOURS)
    queue = current_queue() if job.state == JobState.RUNNING else None
    return jsonify(job_detail(job, progress_view(job, queue)))
