"""Starting a review: the draft of a conversation, from an assignment or not, and its audit.

A reviewer has at most one draft per conversation (a partial unique index), and an assignment
at most one review. Starting races when two starts come at once (a double click, two API calls):
the assignment's row is locked first, so starts of one assignment go one after the other, and
the draft is inserted inside a SAVEPOINT (``qa_app.concurrency``), so the second of two starts
continues the draft the first made instead of failing on the unique index.

``reviews.services`` re-exports these; the rules are in its docstring.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.concurrency import insert_once, lock_row
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.org.roles import Role
from qa_app.org.scope import scope_of
from qa_app.reviews.answers import ReviewError
from qa_app.reviews.models import Review, ReviewEvent, ReviewStatus
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from qa_app.scorecards.models import ScorecardVersion, VersionStatus
from qa_app.scorecards.services import published_version

REVIEWER_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.QA_SPECIALIST, Role.PARTNER_QA})


def record_event(
    session: Session,
    review: Review,
    by: User | None,
    action: str,
    details: dict[str, Any],
    at: datetime,
) -> ReviewEvent:
    """One entry of the review's history; ``by`` None is the system (shown as such)."""
    actor_id = by.id if by is not None else None
    event = ReviewEvent(
        review_id=review.id, actor_id=actor_id, at=at, action=action, details=details
    )
    session.add(event)
    session.flush()
    return event


def lock_review(session: Session, review: Review) -> None:
    """Re-read the review under a lock (a row lock on PostgreSQL, the write lock on SQLite), so
    concurrent steps run one by one."""
    lock_row(session, review)


def may_review(reviewer: User, conversation: Conversation) -> bool:
    """Whether the reviewer's role and partner scope cover the conversation."""
    if reviewer.role not in REVIEWER_ROLES:
        return False
    scope = scope_of(reviewer)
    if scope.everything:
        return True
    team = conversation.team
    return scope.partner_id is not None and team is not None and team.partner_id == scope.partner_id


def draft_of(session: Session, reviewer: User, conversation_id: int) -> Review | None:
    """The reviewer's draft of a conversation, if there is one."""
    return session.scalars(
        select(Review)
        .where(
            Review.reviewer_id == reviewer.id,
            Review.conversation_id == conversation_id,
            Review.status == ReviewStatus.DRAFT,
        )
        .order_by(Review.id)
        .limit(1)
    ).first()


def _check_assignment(
    session: Session, assignment: ReviewAssignment, conversation: Conversation, reviewer: User
) -> Review | None:
    """Refuse an assignment the reviewer cannot take; return its existing draft, if any."""
    if assignment.conversation_id != conversation.id:
        raise ReviewError("The assignment is for another conversation.")
    if assignment.reviewer_id not in (None, reviewer.id):
        raise ReviewError("This assignment belongs to another reviewer.")
    existing = session.scalars(select(Review).where(Review.assignment_id == assignment.id)).first()
    if existing is not None:
        if existing.reviewer_id == reviewer.id and existing.status == ReviewStatus.DRAFT:
            return existing
        raise ReviewError("This assignment has already been reviewed.")
    if assignment.status in (AssignmentStatus.DONE, AssignmentStatus.SKIPPED):
        raise ReviewError(f"This assignment is {assignment.status.value}.")
    return None


def _take_assignment(assignment: ReviewAssignment, reviewer: User) -> None:
    assignment.reviewer_id = reviewer.id
    assignment.status = AssignmentStatus.IN_PROGRESS


def release_draft(
    session: Session, assignment: ReviewAssignment, *, by: User | None
) -> Review | None:
    """Detach the draft review of an assignment that is being closed without it (skipped).

    The reviewer keeps the work as a draft of their own, and submitting it later no longer marks
    the skipped assignment done. The review's history records who released it.
    """
    draft = session.scalars(
        select(Review).where(
            Review.assignment_id == assignment.id, Review.status == ReviewStatus.DRAFT
        )
    ).first()
    if draft is None:
        return None
    draft.assignment = None
    now = utcnow()
    draft.updated_at = now
    released = {"assignment_id": {"from": assignment.id, "to": None}}
    record_event(session, draft, by, "released", released, now)
    return draft


def _resume(
    session: Session,
    draft: Review,
    assignment: ReviewAssignment | None,
    reviewer: User,
    now: datetime,
) -> Review:
    """Continue the reviewer's existing draft, attaching the assignment if it has none."""
    if assignment is not None and draft.assignment_id is None:
        draft.assignment = assignment
        _take_assignment(assignment, reviewer)
        draft.updated_at = now
        attached = {"assignment_id": {"from": None, "to": assignment.id}}
        record_event(session, draft, reviewer, "saved", attached, now)
    return draft


# The workflow -----------------------------------------------------------------------------------


def start_review(
    session: Session,
    conversation: Conversation,
    reviewer: User,
    *,
    assignment: ReviewAssignment | None = None,
    version: ScorecardVersion | None = None,
) -> Review:
    """Start (or return the existing) draft review of a conversation.

    The scorecard version is pinned now: the given one, else the newest published version of
    the assignment's scorecard. Taking an unassigned assignment claims it for the reviewer.
    """
    if not may_review(reviewer, conversation):
        raise ReviewError("You may not review this conversation.")
    if reviewer.agent_id is not None and reviewer.agent_id == conversation.agent_id:
        raise ReviewError("You cannot review your own conversations.")
    now = utcnow()
    if assignment is not None:
        lock_row(session, assignment)  # two starts of one assignment at once go one by one
        existing = _check_assignment(session, assignment, conversation, reviewer)
        if existing is not None:
            return existing
    existing = draft_of(session, reviewer, conversation.id)
    if existing is not None:
        return _resume(session, existing, assignment, reviewer, now)
    if version is None and assignment is not None:
        version = published_version(session, assignment.scorecard_id)
        if version is None:
            raise ReviewError(f"Scorecard {assignment.scorecard.name} has no published version.")
    if version is None:
        raise ReviewError("Choose a scorecard to review this conversation with.")
    if version.status != VersionStatus.PUBLISHED:
        raise ReviewError(f"Version {version.number} of this scorecard is not published.")
    review = Review(
        conversation=conversation,
        assignment=assignment,
        scorecard_version=version,
        reviewer_id=reviewer.id,
        agent_id=conversation.agent_id,
        team_id=conversation.team_id,
        status=ReviewStatus.DRAFT,
        overall_comment="",
        section_scores={},
        created_at=now,
        updated_at=now,
    )
    # One draft per reviewer and conversation: when a simultaneous start (a double click, two
    # API calls) inserted it first, that draft is the one to continue.
    review, created = insert_once(
        session, review, lambda: draft_of(session, reviewer, conversation.id)
    )
    if not created:
        return _resume(session, review, assignment, reviewer, now)
    if assignment is not None:
        _take_assignment(assignment, reviewer)
    session.flush()
    details: dict[str, Any] = {
        "conversation_id": conversation.id,
        "scorecard_version_id": version.id,
        "assignment_id": assignment.id if assignment is not None else None,
    }
    record_event(session, review, reviewer, "created", details, now)
    return review
