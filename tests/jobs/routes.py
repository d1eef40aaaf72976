"""Expected access per role for the job routes (merged into tests.routes).

The world's job was started by another QA specialist: administrators and managers see it, any
other role gets 404 for it (a job out of sight is not known to exist), and 403 for the list.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from qa_app.db import utcnow
from qa_app.jobs.models import Job, JobState
from tests.access import ANONYMOUS, EDITORS, Access, allow
from tests.api.api_routes import token_only


@dataclass(frozen=True)
class HiddenAccess(Access):
    """Like Access, but a role that may not see the object gets 404, not 403."""

    def expected(self, role: str) -> int:
        if role == ANONYMOUS or role in self.allowed:
            return super().expected(role)
        return 404


def hidden(method: str, roles: set[str]) -> HiddenAccess:
    return HiddenAccess(method, frozenset(roles))


ROUTES: dict[str, Access] = {
    "/jobs": allow("GET", EDITORS),
    "/jobs/<int:job_id>": hidden("GET", EDITORS),
    "/jobs/<int:job_id>/progress": hidden("GET", EDITORS),
    # The role matrix with tokens is in tests/jobs/test_views.py.
    "/api/v1/jobs/<int:job_id>": token_only("GET"),
}


def job_world(session: Session, started_by_id: int) -> dict[str, int]:
    """A finished job of another user."""
    job = Job(
        kind="import_conversations",
        started_by_id=started_by_id,
        parameters={"filename": "october.jsonl"},
        state=JobState.DONE,
        attempts=1,
        result={"created": 3},
        finished_at=utcnow(),
    )
    session.add(job)
    session.commit()
    return {"job_id": job.id}
