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
from typing import Any

from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.db import utcnow
from qa_app.org.roles import Role
from qa_app.reviews.answers import (
    AnswerInput,
    ReviewError,
    answer_snapshot,
    apply_answers,
    clean_comment,
    score,
)
from qa_app.reviews.drafts import REVIEWER_ROLES as REVIEWER_ROLES
from qa_app.reviews.drafts import draft_of as draft_of
from qa_app.reviews.drafts import lock_review, record_event
from qa_app.reviews.drafts import may_review as may_review
from qa_app.reviews.drafts import release_draft as release_draft
from qa_app.reviews.drafts import start_review as start_review
from qa_app.reviews.models import (
    Dispute,
    DisputeOutcome,
    Review,
    ReviewStatus,
)
from qa_app.sampling.models import AssignmentStatus

RESOLVER_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
# Reviews whose score stands and counts in statistics; a disputed score is in question.
SCORED_STATUSES = (ReviewStatus.SUBMITTED, ReviewStatus.ACKNOWLEDGED, ReviewStatus.RESOLVED)

# Helpers ----------------------------------------------------------------------------------------


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
    lock_review(session, review)
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
        record_event(session, review, by, "saved", diff, now)
    session.flush()
    return diff


def submit_review(session: Session, review: Review, *, by: User) -> Review:
    """Score a complete draft and submit it; the assignment, if any, is done."""
    lock_review(session, review)
    _require_draft_of(review, by)
    now = utcnow()
    diff = score(review)
    _set_status(review, ReviewStatus.SUBMITTED, diff)
    review.submitted_at = review.updated_at = now
    diff["answers"] = answer_snapshot(review)
    if review.assignment is not None:
        review.assignment.status = AssignmentStatus.DONE
    record_event(session, review, by, "submitted", diff, now)
    return review


def acknowledge(session: Session, review: Review, *, by: User) -> Review:
    """The agent confirms having read a submitted (or resolved) review."""
    lock_review(session, review)
    _require_agent_of(review, by)
    if review.status not in (ReviewStatus.SUBMITTED, ReviewStatus.RESOLVED):
        raise ReviewError(f"A {review.status.value} review cannot be acknowledged.")
    now = utcnow()
    diff: dict[str, Any] = {}
    _set_status(review, ReviewStatus.ACKNOWLEDGED, diff)
    review.acknowledged_at = review.updated_at = now
    record_event(session, review, by, "acknowledged", diff, now)
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
    lock_review(session, review)
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
    record_event(session, review, by, "disputed", diff, now)
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
    lock_review(session, review)
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
    record_event(session, review, by, action, diff, now)
    return pending
