"""Who sees which job: one rule for the pages and the API.

Administrators and managers see every job; anyone else only the jobs they started themselves
(a job's parameters and result may name files and people). A job out of sight answers 404.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from qa_app.jobs.models import Job
from qa_app.org.roles import ORG_EDITORS

JOB_MANAGERS = ORG_EDITORS


def can_see(user: Any, job: Job) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return user.role in JOB_MANAGERS or (
        job.started_by_id is not None and job.started_by_id == user.id
    )


def visible_jobs(user: Any) -> Select[Job]:
    stmt = select(Job)
    if user.role not in JOB_MANAGERS:
        stmt = stmt.where(Job.started_by_id == user.id)
    return stmt
