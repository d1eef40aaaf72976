"""The review workflow: start, save a draft, submit, acknowledge, dispute, resolve; all audited.

Every function takes the session, adds and flushes, never commits, and writes one ReviewEvent
with the actor and a diff (``{"field": {"from": old, "to": new}}``) of what it changed; a draft
save that changes nothing writes nothing. Rules that are decisions, not accidents:

* A reviewer has at most one draft per conversation: starting again returns that draft.
* Nobody reviews their own conversations (a reviewer linked to the conversation's agent).
* Partner QA reviewers review only conversations of their own partner's teams.
* Only the review's agent acknowledges or disputes it. A dispute needs a reason. A review can be
  disputed while submitted, or again after a dispute that re-scored it (the new score is a new
  decision); a dispute that upheld the review is final, and an acknowledged review is accepted
  and can no longer be disputed. An agent may acknowledge a submitted or a resolved review.
* Managers and administrators resolve disputes, but not on reviews they scored themselves.
  Both outcomes need a note for the agent. A re-score keeps the old answers, score and section
  scores in the event's details.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.auth.roles import Role
from qa_app.auth.scope import scope_of
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.reviews.answers import (
    AnswerInput,
    ReviewError,
    answer_snapshot,
    apply_answers,
    clean_comment,
    score,
)
from qa_app.reviews.models import (
    Dispute,
    DisputeOutcome,
    Review,
    ReviewEvent,
    ReviewStatus,
)
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from qa_app.scorecards.models import ScorecardVersion, VersionStatus
from qa_app.scorecards.services import published_version

REVIEWER_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.QA_SPECIALIST, Role.PARTNER_QA})
RESOLVER_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
# Reviews whose score stands and counts in statistics; a disputed score is in question.
SCORED_STATUSES = (ReviewStatus.SUBMITTED, ReviewStatus.ACKNOWLEDGED, ReviewStatus.RESOLVED)

# Helpers ----------------------------------------------------------------------------------------


def _record(
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


def _lock(session: Session, review: Review) -> None:
    """Re-read the review under a row lock (PostgreSQL), so concurrent steps run one by one."""
    session.refresh(review, with_for_update=True)


def _set_status(review: Review, status: ReviewStatus, diff: dict[str, Any]) -> None:
    diff["status"] = {"from": review.status.value, "to": status.value}
    review.status = status


def _require_draft_of(review: Review, by: User) -> None:
    if review.reviewer_id != by.id:
        raise ReviewError("Only the reviewer who started this review can change it.")
    if review.status != ReviewStatus.DRAFT:
        raise ReviewError(f"This review is {review.status.value}; only a draft can be changed.")


def _require_agent_of(review: Review, by: User) -> None:
    if review.agent_id is None or by.agent_id != review.agent_id:
        raise ReviewError("Only the agent whose conversation was reviewed can do this.")


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
    _record(session, draft, by, "released", released, now)
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
        existing = _check_assignment(session, assignment, conversation, reviewer)
        if existing is not None:
            return existing
    existing = draft_of(session, reviewer, conversation.id)
    if existing is not None:
        if assignment is not None and existing.assignment_id is None:
            existing.assignment = assignment
            _take_assignment(assignment, reviewer)
            existing.updated_at = now
            attached = {"assignment_id": {"from": None, "to": assignment.id}}
            _record(session, existing, reviewer, "saved", attached, now)
        return existing
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
    session.add(review)
    if assignment is not None:
        _take_assignment(assignment, reviewer)
    session.flush()
    details: dict[str, Any] = {
        "conversation_id": conversation.id,
        "scorecard_version_id": version.id,
        "assignment_id": assignment.id if assignment is not None else None,
    }
    _record(session, review, reviewer, "created", details, now)
    return review


def save_draft(
    session: Session,
    review: Review,
    answers: Mapping[int, AnswerInput],
    overall_comment: str | None,
    *,
    by: User,
) -> dict[str, Any]:
    """Save answers (any subset; a None value clears one) and the overall comment of a draft.

    ``answers`` maps criterion ids to (value, comment). Returns the diff recorded, empty when
    nothing changed (and then no event is written).
    """
    _lock(session, review)
    _require_draft_of(review, by)
    diff: dict[str, Any] = {}
    changes = apply_answers(review, answers)
    if changes:
        diff["answers"] = changes
    if overall_comment is not None:
        comment = clean_comment(overall_comment, "The overall comment")
        if comment != review.overall_comment:
            diff["overall_comment"] = {"from": review.overall_comment, "to": comment}
            review.overall_comment = comment
    if diff:
        now = utcnow()
        review.updated_at = now
        _record(session, review, by, "saved", diff, now)
    session.flush()
    return diff


def submit_review(session: Session, review: Review, *, by: User) -> Review:
    """Score a complete draft and submit it; the assignment, if any, is done."""
    _lock(session, review)
    _require_draft_of(review, by)
    now = utcnow()
    diff = score(review)
    _set_status(review, ReviewStatus.SUBMITTED, diff)
    review.submitted_at = review.updated_at = now
    diff["answers"] = answer_snapshot(review)
    if review.assignment is not None:
        review.assignment.status = AssignmentStatus.DONE
    _record(session, review, by, "submitted", diff, now)
    return review


def acknowledge(session: Session, review: Review, *, by: User) -> Review:
    """The agent confirms having read a submitted (or resolved) review."""
    _lock(session, review)
    _require_agent_of(review, by)
    if review.status not in (ReviewStatus.SUBMITTED, ReviewStatus.RESOLVED):
        raise ReviewError(f"A {review.status.value} review cannot be acknowledged.")
    now = utcnow()
    diff: dict[str, Any] = {}
    _set_status(review, ReviewStatus.ACKNOWLEDGED, diff)
    review.acknowledged_at = review.updated_at = now
    _record(session, review, by, "acknowledged", diff, now)
    return review


def _dispute_refusal(review: Review) -> str | None:
    if review.status == ReviewStatus.SUBMITTED:
        return None
    last = review.disputes[-1] if review.disputes else None
    if review.status == ReviewStatus.RESOLVED and last and last.outcome == DisputeOutcome.RESCORED:
        return None
    if review.status == ReviewStatus.DISPUTED:
        return "This review is already disputed; a manager will decide."
    if review.status == ReviewStatus.RESOLVED:
        return "Your dispute was decided and the review upheld; it cannot be disputed again."
    if review.status == ReviewStatus.ACKNOWLEDGED:
        return "You acknowledged this review; it can no longer be disputed."
    return "This review has not been submitted."


def may_dispute(review: Review) -> bool:
    return _dispute_refusal(review) is None


def dispute(session: Session, review: Review, reason: str, *, by: User) -> Dispute:
    """The agent objects to a review, giving a reason; a manager decides."""
    _lock(session, review)
    _require_agent_of(review, by)
    refusal = _dispute_refusal(review)
    if refusal is not None:
        raise ReviewError(refusal)
    text = clean_comment(reason, "The reason")
    if not text:
        raise ReviewError("Give a reason for the dispute.")
    now = utcnow()
    raised = Dispute(review=review, raised_by_id=by.id, reason=text, raised_at=now)
    session.add(raised)
    diff: dict[str, Any] = {}
    _set_status(review, ReviewStatus.DISPUTED, diff)
    review.updated_at = now
    session.flush()
    diff.update(dispute_id=raised.id, reason=text)
    _record(session, review, by, "disputed", diff, now)
    return raised


def open_dispute(review: Review) -> Dispute | None:
    last = review.disputes[-1] if review.disputes else None
    return last if last is not None and last.outcome is None else None


def may_resolve(review: Review, user: User) -> bool:
    return (
        user.role in RESOLVER_ROLES
        and user.id != review.reviewer_id
        and review.status == ReviewStatus.DISPUTED
    )


def resolve_dispute(
    session: Session,
    review: Review,
    outcome: DisputeOutcome,
    note: str,
    new_answers: Mapping[int, AnswerInput] | None = None,
    *,
    by: User,
) -> Dispute:
    """Decide a dispute: uphold the review, or re-score it with ``new_answers`` (merged into the
    current answers; every criterion must end up answered)."""
    _lock(session, review)
    if by.role not in RESOLVER_ROLES:
        raise ReviewError("Only a manager or an administrator resolves disputes.")
    if by.id == review.reviewer_id:
        raise ReviewError("You scored this review; another manager must decide its dispute.")
    pending = open_dispute(review)
    if review.status != ReviewStatus.DISPUTED or pending is None:
        raise ReviewError("This review has no open dispute.")
    text = clean_comment(note, "The note")
    if not text:
        raise ReviewError("Write a note explaining the decision to the agent.")
    now = utcnow()
    diff: dict[str, Any] = {"dispute_id": pending.id, "note": text}
    if outcome == DisputeOutcome.UPHELD:
        if new_answers:
            raise ReviewError("An upheld review keeps its answers; re-score it to change them.")
        action = "resolved_upheld"
    else:
        old = {
            "old_answers": answer_snapshot(review),
            "old_score": review.score,
            "old_auto_failed": review.auto_failed,
            "old_section_scores": dict(review.section_scores or {}),
        }
        changes = apply_answers(review, new_answers or {})
        if not changes:
            raise ReviewError("No answer changed; uphold the review instead of re-scoring it.")
        diff.update(old)
        diff["answers"] = changes
        diff.update(score(review))
        action = "rescored"
    _set_status(review, ReviewStatus.RESOLVED, diff)
    pending.outcome = outcome
    pending.resolution_note = text
    pending.resolved_by_id = by.id
    pending.resolved_at = review.updated_at = now
    _record(session, review, by, action, diff, now)
    return pending
