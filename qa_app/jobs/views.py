"""The Jobs pages: the list (administrators, managers) and one job with its progress."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, make_response, render_template, request
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from qa_app.db import get_session
from qa_app.forms import choices
from qa_app.jobs.access import JOB_MANAGERS
from qa_app.jobs.forms import ANY, STATE_LABELS, JobFilterForm
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.queries import (
    ProgressView,
    job_list,
    kind_choices,
    progress_view,
    public_parameters,
    visible_job,
)
from qa_app.jobs.queue import Queue, current_queue
from qa_app.jobs.registry import kind_label
from qa_app.org.access import role_required
from qa_app.pagination import page_args, paginate

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

POLL_SECONDS = 2  # htmx polls the progress this often; without JavaScript the page reloads
RELOAD_SECONDS = 5


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "kind_label": kind_label,
        "STATE_LABELS": STATE_LABELS,
        "POLL_SECONDS": POLL_SECONDS,
        "RELOAD_SECONDS": RELOAD_SECONDS,
    }


@bp.app_template_global("job_progress")
def job_progress(job: Job) -> ProgressView:
    """For any page that includes jobs/_progress.html: the progress of ``job``."""
    return progress_view(job, _queue_if_running(job))


def _job_or_404(job_id: int) -> Job:
    return visible_job(get_session(), current_user, job_id) or abort(404)


def _queue_if_running(job: Job) -> Queue | None:
    # Only a running job has live figures; other pages need not open the queue at all.
    return current_queue() if job.state == JobState.RUNNING else None


@bp.get("")
@role_required(JOB_MANAGERS)
def jobs() -> tuple[str, int]:
    """List background jobs, newest first, by state and kind."""
    session = get_session()
    form = JobFilterForm(formdata=request.args)
    form.kind.choices = choices([(ANY, "Any"), *kind_choices(session)])
    if not form.validate():
        return render_template("jobs/list.html", form=form, page=None), 400
    stmt = job_list(current_user, state=form.state.data, kind=form.kind.data)
    page = paginate(session, stmt, *page_args())
    filtered = bool(form.state.data or form.kind.data)
    return render_template("jobs/list.html", form=form, page=page, filtered=filtered), 200


@bp.get("/<int:job_id>")
@login_required
def job(job_id: int) -> str:
    """Show a job: its progress (refreshed while it runs), parameters, result or error."""
    found = _job_or_404(job_id)
    return render_template(
        "jobs/detail.html",
        job=found,
        progress=job_progress(found),
        parameters=public_parameters(found.parameters or {}),
    )


@bp.get("/<int:job_id>/progress")
@login_required
def progress(job_id: int) -> Response:
    """Render a job's progress partial, which htmx polls while the job runs."""
    found = _job_or_404(job_id)
    view = job_progress(found)
    response = make_response(render_template("jobs/_progress.html", progress=view))
    if view.finished and request.headers.get("HX-Request"):
        # The page that polled now shows the outcome in full (its result, its next steps).
        response.headers["HX-Refresh"] = "true"
    return response
