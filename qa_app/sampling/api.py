"""/api/v1/assignments: the review assignments sampling plans create, as on /sampling/assignments.

Visibility is the web UI's: QA specialists and partner QA see only the assignments given to
them, partner viewers every assignment of their partner's conversations, administrators and
managers every assignment; agents get 403. An assignment out of sight answers 404. Managers
(PLAN_MANAGERS) reassign and skip through the same services as the web UI; any problem answers
422 listing every problem, and then nothing changes.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session, joinedload

from qa_app.api.auth import api_user
from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.errors import ApiError
from qa_app.api.models import next_page_url
from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.pagination import paginate
from qa_app.sampling import hooks, services
from qa_app.sampling.access import ASSIGNMENT_READERS, PLAN_MANAGERS, visible_assignments
from qa_app.sampling.api_models import (
    ALL,
    AssignmentDetail,
    AssignmentPage,
    AssignmentsQuery,
    ReassignInput,
    SkipInput,
    assignment_detail,
    assignment_summary,
)
from qa_app.sampling.engine import OPEN_STATUSES
from qa_app.sampling.forms import UNASSIGNED
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from qa_app.service_errors import Forbidden, Invalid, NotFound

NOT_YOURS = "There is no such assignment, or it is not yours to see."

# Reading ----------------------------------------------------------------------------------------


def _loaded(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(
        joinedload(ReviewAssignment.conversation).joinedload(Conversation.agent),
        joinedload(ReviewAssignment.conversation).joinedload(Conversation.team),
        joinedload(ReviewAssignment.reviewer),
        joinedload(ReviewAssignment.scorecard),
        joinedload(ReviewAssignment.plan),
    )


def _filtered(stmt: Select[Any], query: AssignmentsQuery, user: User) -> Select[Any]:
    if query.status is None:
        stmt = stmt.where(ReviewAssignment.status.in_(OPEN_STATUSES))
    elif query.status != ALL:
        stmt = stmt.where(ReviewAssignment.status == AssignmentStatus(query.status))
    if query.plan_id is not None:
        stmt = stmt.where(ReviewAssignment.plan_id == query.plan_id)
    if query.reviewer_id is not None and user.role not in PLAN_MANAGERS:  # as in the web UI
        raise ApiError(
            400, "Query parameter 'reviewer_id' is only for administrators and managers."
        )
    if query.reviewer_id == UNASSIGNED:
        stmt = stmt.where(ReviewAssignment.reviewer_id.is_(None))
    elif query.reviewer_id is not None:
        stmt = stmt.where(ReviewAssignment.reviewer_id == query.reviewer_id)
    return stmt


@bp.get("/assignments")
@endpoint(
    ASSIGNMENT_READERS,
    operation_id="listAssignments",
    tag="assignments",
    answers={200: AssignmentPage},
    errors=[403],
)
def list_assignments(query: AssignmentsQuery) -> AssignmentPage:
    """Review assignments the user may see, soonest due first (undated last)."""
    session = get_session()
    user = api_user()
    stmt = _loaded(_filtered(visible_assignments(user), query, user)).order_by(
        ReviewAssignment.due_at.asc().nulls_last(), ReviewAssignment.id
    )
    result = paginate(session, stmt, query.page, query.per_page)
    review_ids = hooks.reviews_of(session, [item.id for item in result.items])
    return AssignmentPage(
        items=[assignment_summary(item, review_ids) for item in result.items],
        page=query.page,
        per_page=query.per_page,
        total=result.total,
        next=next_page_url("api.list_assignments", query.page, result.has_next),
    )


def _detail(session: Session, assignment_id: int, user: User) -> AssignmentDetail:
    """The summary plus the history; 404 when missing or out of the user's sight."""
    stmt = _loaded(visible_assignments(user).where(ReviewAssignment.id == assignment_id))
    item: ReviewAssignment | None = session.scalars(stmt).one_or_none()
    if item is None:
        raise NotFound(NOT_YOURS)
    review_ids = hooks.reviews_of(session, [item.id])
    return assignment_detail(item, review_ids, services.history(session, item))


@bp.get("/assignments/<int:assignment_id>")
@endpoint(
    ASSIGNMENT_READERS,
    operation_id="getAssignment",
    tag="assignments",
    answers={200: AssignmentDetail},
    errors=[403, 404],
)
def get_assignment(assignment_id: int) -> AssignmentDetail:
    """One assignment with its history of reassignments and skips."""
    return _detail(get_session(), assignment_id, api_user())


# Changing ---------------------------------------------------------------------------------------


def _to_manage(session: Session, assignment_id: int, user: User) -> ReviewAssignment:
    """The assignment, locked for the change (PostgreSQL); 404 out of sight, 403 for non-managers.

    The lock makes two simultaneous changes queue up, so the second sees the first's result
    (a skipped assignment cannot be skipped or reassigned again).
    """
    stmt = (
        visible_assignments(user)
        .where(ReviewAssignment.id == assignment_id)
        .with_for_update(of=ReviewAssignment)
    )
    item: ReviewAssignment | None = session.scalars(stmt).one_or_none()
    if item is None:
        raise NotFound(NOT_YOURS)
    if user.role not in PLAN_MANAGERS:
        raise Forbidden("Only administrators and managers reassign or skip assignments.")
    return item


def _changed(session: Session, assignment_id: int, user: User) -> AssignmentDetail:
    session.commit()
    # Sessions keep objects loaded across commits: reload, or the old reviewer would show.
    session.expire_all()
    return _detail(session, assignment_id, user)


@bp.post("/assignments/<int:assignment_id>/reassign")
@endpoint(
    ASSIGNMENT_READERS,
    operation_id="reassignAssignment",
    tag="assignments",
    answers={200: AssignmentDetail},
    errors=[403, 404],
)
def reassign_assignment(assignment_id: int, json: ReassignInput) -> AssignmentDetail:
    """Give an open assignment to another reviewer (admin, manager)."""
    session = get_session()
    user = api_user()
    item = _to_manage(session, assignment_id, user)
    reviewer = session.get(User, json.reviewer_id)
    if reviewer is None:
        raise Invalid("That reviewer does not exist.", services.REVIEWER)
    services.reassign(session, item, reviewer, by=user)
    return _changed(session, assignment_id, user)


@bp.post("/assignments/<int:assignment_id>/skip")
@endpoint(
    ASSIGNMENT_READERS,
    operation_id="skipAssignment",
    tag="assignments",
    answers={200: AssignmentDetail},
    errors=[403, 404],
)
def skip_assignment(assignment_id: int, json: SkipInput) -> AssignmentDetail:
    """Close an open or in-progress assignment without a review (admin, manager).

    A draft already started for it stays with its reviewer, detached from the assignment.
    """
    session = get_session()
    user = api_user()
    item = _to_manage(session, assignment_id, user)
    services.skip(session, item, json.reason, by=user)
    return _changed(session, assignment_id, user)
