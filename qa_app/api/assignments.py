"""/api/v1/assignments: the review assignments sampling plans create, as on /sampling/assignments.

Visibility is the web UI's: QA specialists and partner QA see only the assignments given to
them, partner viewers every assignment of their partner's conversations, administrators and
managers every assignment; agents get 403. An assignment out of sight answers 404. Managers
(PLAN_MANAGERS) reassign and skip through the same services as the web UI; any problem answers
422 listing every problem, and then nothing changes.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from sqlalchemy import Select
from sqlalchemy.orm import Session, joinedload

from qa_app.api.auth import api_roles, api_user
from qa_app.api.blueprint import bp
from qa_app.api.errors import ApiError
from qa_app.api.params import choice_arg, int_arg, text_arg
from qa_app.api.review_bodies import invalid_response, review_body
from qa_app.api.serializers import agent_ref, iso, team_ref
from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.pagination import MAX_PER_PAGE, paginate
from qa_app.reviews.queries import reviews_of_assignments
from qa_app.sampling import services
from qa_app.sampling.access import ASSIGNMENT_READERS, PLAN_MANAGERS, visible_assignments
from qa_app.sampling.engine import OPEN_STATUSES
from qa_app.sampling.forms import UNASSIGNED
from qa_app.sampling.models import AssignmentEvent, AssignmentStatus, ReviewAssignment

DEFAULT_PER_PAGE = 50
ALL = "all"
STATUSES = (*(status.value for status in AssignmentStatus), ALL)
NOT_YOURS = "There is no such assignment, or it is not yours to see."
REASSIGN_FIELDS = frozenset({"reviewer_id"})
SKIP_FIELDS = frozenset({"reason"})

Problems = list[tuple[str | None, str]]


# JSON shapes ------------------------------------------------------------------------------------


def _person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "name": user.name}


def assignment_summary(item: ReviewAssignment, review_ids: dict[int, int]) -> dict[str, Any]:
    """Expects conversation (with agent and team), reviewer, scorecard and plan loaded."""
    conversation = item.conversation
    plan = item.plan
    return {
        "id": item.id,
        "status": item.status.value,
        "conversation": {
            "id": conversation.id,
            "external_id": conversation.external_id,
            "channel": conversation.channel,
            "started_at": iso(conversation.started_at),
        },
        "agent": agent_ref(conversation.agent),
        "team": team_ref(conversation.team),
        "reviewer": _person(item.reviewer),
        "scorecard": {"id": item.scorecard.id, "name": item.scorecard.name},
        "plan": None if plan is None else {"id": plan.id, "name": plan.name},
        "stratum": item.stratum,
        "weight": item.weight,
        "reason": item.reason,
        "due_at": iso(item.due_at),
        "created_at": iso(item.created_at),
        "skip_reason": item.skip_reason,
        "review_id": review_ids.get(item.id),
        "url": url_for("api.get_assignment", assignment_id=item.id, _external=True),
    }


def _event(event: AssignmentEvent) -> dict[str, Any]:
    return {
        "action": event.action,
        "at": iso(event.at),
        "actor": _person(event.actor),
        "details": event.details or {},
    }


# Reading ----------------------------------------------------------------------------------------


def _loaded(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(
        joinedload(ReviewAssignment.conversation).joinedload(Conversation.agent),
        joinedload(ReviewAssignment.conversation).joinedload(Conversation.team),
        joinedload(ReviewAssignment.reviewer),
        joinedload(ReviewAssignment.scorecard),
        joinedload(ReviewAssignment.plan),
    )


def _reviewer_filter(user: User) -> str | int | None:
    """``reviewer_id``: a user id or "none" (unassigned); managers only, as in the web UI."""
    raw = text_arg("reviewer_id")
    if raw is None:
        return None
    if user.role not in PLAN_MANAGERS:
        raise ApiError(
            400, "Query parameter 'reviewer_id' is only for administrators and managers."
        )
    if raw.lower() == UNASSIGNED:
        return UNASSIGNED
    return int_arg("reviewer_id")


def _filtered(stmt: Select[Any], user: User) -> Select[Any]:
    status = choice_arg("status", STATUSES)
    if status is None:
        stmt = stmt.where(ReviewAssignment.status.in_(OPEN_STATUSES))
    elif status != ALL:
        stmt = stmt.where(ReviewAssignment.status == AssignmentStatus(status))
    plan_id = int_arg("plan_id")
    if plan_id is not None:
        stmt = stmt.where(ReviewAssignment.plan_id == plan_id)
    reviewer = _reviewer_filter(user)
    if reviewer == UNASSIGNED:
        stmt = stmt.where(ReviewAssignment.reviewer_id.is_(None))
    elif reviewer is not None:
        stmt = stmt.where(ReviewAssignment.reviewer_id == reviewer)
    return stmt


@bp.get("/assignments")
@api_roles(ASSIGNMENT_READERS)
def list_assignments() -> Response:
    """List the assignments the token's user may see, soonest due first (undated last)."""
    session = get_session()
    user = api_user()
    page = int_arg("page", 1) or 1
    per_page = min(int_arg("per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE, MAX_PER_PAGE)
    stmt = _loaded(_filtered(visible_assignments(user), user)).order_by(
        ReviewAssignment.due_at.asc().nulls_last(), ReviewAssignment.id
    )
    result = paginate(session, stmt, page, per_page)
    review_ids = reviews_of_assignments(session, [item.id for item in result.items])
    next_url = None
    if result.has_next:
        # Keys starting with "_" would be read by url_for as options, not as query arguments.
        args: dict[str, Any] = {
            key: values for key, values in request.args.lists() if not key.startswith("_")
        }
        args["page"] = [str(page + 1)]
        next_url = url_for("api.list_assignments", **args, _external=True)
    return jsonify(
        {
            "items": [assignment_summary(item, review_ids) for item in result.items],
            "page": page,
            "per_page": per_page,
            "total": result.total,
            "next": next_url,
        }
    )


def _detail(session: Session, assignment_id: int, user: User) -> dict[str, Any]:
    """The summary plus the history; 404 when missing or out of the user's sight."""
    stmt = _loaded(visible_assignments(user).where(ReviewAssignment.id == assignment_id))
    item: ReviewAssignment | None = session.scalars(stmt).one_or_none()
    if item is None:
        raise ApiError(404, NOT_YOURS)
    return {
        **assignment_summary(item, reviews_of_assignments(session, [item.id])),
        "history": [_event(event) for event in services.history(session, item)],
    }


@bp.get("/assignments/<int:assignment_id>")
@api_roles(ASSIGNMENT_READERS)
def get_assignment(assignment_id: int) -> Response:
    """One assignment with its history of reassignments and skips."""
    return jsonify(_detail(get_session(), assignment_id, api_user()))


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
        raise ApiError(404, NOT_YOURS)
    if user.role not in PLAN_MANAGERS:
        raise ApiError(403, "Only administrators and managers reassign or skip assignments.")
    return item


def _unknown_fields(body: dict[str, Any], allowed: frozenset[str], what: str) -> Problems:
    return [(field, f"is not a field of a {what}") for field in sorted(set(body) - allowed)]


def _changed(session: Session, assignment_id: int, user: User) -> Response:
    session.commit()
    # Sessions keep objects loaded across commits: reload, or the old reviewer would show.
    session.expire_all()
    return jsonify(_detail(session, assignment_id, user))


@bp.post("/assignments/<int:assignment_id>/reassign")
@api_roles(ASSIGNMENT_READERS)
def reassign_assignment(assignment_id: int) -> Response | tuple[Response, int]:
    """Give an open assignment to another eligible reviewer: ``{"reviewer_id": N}``."""
    session = get_session()
    user = api_user()
    item = _to_manage(session, assignment_id, user)
    body = review_body("reassignment")
    problems = _unknown_fields(body, REASSIGN_FIELDS, "reassignment")
    reviewer_id = body.get("reviewer_id")
    if reviewer_id is None:
        problems.append(("reviewer_id", "is required"))
    elif isinstance(reviewer_id, bool) or not isinstance(reviewer_id, int):
        problems.append(("reviewer_id", "must be a whole number"))
    if problems:
        session.rollback()
        return invalid_response(problems, "reassignment")
    # When the assignment may be reassigned at all, what the service refuses is the reviewer.
    field = "reviewer_id" if item.status == AssignmentStatus.OPEN else None
    reviewer = session.get(User, reviewer_id)
    try:
        if reviewer is None:
            raise services.SamplingError("That reviewer does not exist.")
        services.reassign(session, item, reviewer, by=user)
    except services.SamplingError as error:
        session.rollback()
        return invalid_response([(field, str(error))], "reassignment")
    return _changed(session, assignment_id, user)


@bp.post("/assignments/<int:assignment_id>/skip")
@api_roles(ASSIGNMENT_READERS)
def skip_assignment(assignment_id: int) -> Response | tuple[Response, int]:
    """Close an open or in-progress assignment without a review: ``{"reason": "..."}``.

    A draft already started for it stays with its reviewer, detached from the assignment.
    """
    session = get_session()
    user = api_user()
    item = _to_manage(session, assignment_id, user)
    body = review_body("skip")
    problems = _unknown_fields(body, SKIP_FIELDS, "skip")
    reason = body.get("reason")
    if reason is None:
        problems.append(("reason", "is required"))
    elif not isinstance(reason, str):
        problems.append(("reason", "must be text"))
    if problems or not isinstance(reason, str):  # the second only narrows: it is a problem
        session.rollback()
        return invalid_response(problems, "skip")
    # When the assignment may be skipped at all, what the service refuses is the reason.
    field = "reason" if item.status in OPEN_STATUSES else None
    try:
        services.skip(session, item, reason, by=user)
    except services.SamplingError as error:
        session.rollback()
        return invalid_response([(field, str(error))], "skip")
    return _changed(session, assignment_id, user)
