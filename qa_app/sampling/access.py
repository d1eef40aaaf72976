"""Who may see and change review assignments: one rule for the web pages and the API.

Administrators and managers manage plans and every assignment (reassign, skip); QA specialists
and partner QA see the assignments given to them; partner viewers see their partner's. Everything
is partner-scoped on top (qa_app/org/scope.py). Agents see none.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select

from qa_app.org.roles import ORG_EDITORS, Role
from qa_app.org.scope import scoped
from qa_app.sampling.models import ReviewAssignment

PLAN_MANAGERS = ORG_EDITORS
ASSIGNMENT_READERS = frozenset(
    {Role.ADMIN, Role.MANAGER, Role.QA_SPECIALIST, Role.PARTNER_QA, Role.PARTNER_VIEWER}
)
OWN_ASSIGNMENTS_ONLY = frozenset({Role.QA_SPECIALIST, Role.PARTNER_QA})


def visible_assignments(user: Any) -> Select[Any]:
    """The assignments ``user`` may see: their own for reviewers, partner-scoped for all."""
    stmt = select(ReviewAssignment)
    if user.role in OWN_ASSIGNMENTS_ONLY:
        stmt = stmt.where(ReviewAssignment.reviewer_id == user.id)
    return scoped(stmt, ReviewAssignment, user)
