"""What reviews add to the features below them: the reviews card beside a transcript and the
reviewed-or-not filter (conversations), keeping reviewed conversations out of sampling,
taking back the draft of a skipped assignment and naming the review of each assignment
(sampling)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from qa_app.conversations import hooks as conversation_hooks
from qa_app.conversations.models import Conversation
from qa_app.reviews.drafts import REVIEWER_ROLES, release_draft
from qa_app.reviews.models import Review, ReviewStatus
from qa_app.reviews.queries import reviews_of_assignments, visible_reviews
from qa_app.sampling import hooks as sampling_hooks
from qa_app.sampling.models import ReviewAssignment


def transcript_panel(
    session: Session, conversation: Conversation, user: Any
) -> conversation_hooks.TranscriptPanel:
    reviews = session.scalars(
        visible_reviews(user)
        .where(Review.conversation_id == conversation.id)
        .options(selectinload(Review.reviewer), selectinload(Review.scorecard_version))
        .order_by(Review.id)
    ).all()
    context = {"reviews": reviews, "can_review": user.role in REVIEWER_ROLES}
    return conversation_hooks.TranscriptPanel("reviews/_conversation_reviews.html", context)


def reviewed_conversation_ids() -> Select[Any]:
    return select(Review.conversation_id).where(Review.status != ReviewStatus.DRAFT)


def not_reviewed() -> ColumnElement[bool]:
    return ~exists().where(
        Review.conversation_id == Conversation.id, Review.status != ReviewStatus.DRAFT
    )


def release_skipped_draft(session: Session, assignment: ReviewAssignment, by: Any) -> int | None:
    draft = release_draft(session, assignment, by=by)
    return draft.id if draft is not None else None


def register() -> None:
    conversation_hooks.add_transcript_panel("reviews", transcript_panel)
    conversation_hooks.set_reviewed_conversations(reviewed_conversation_ids)
    sampling_hooks.exclude_candidates("reviewed", not_reviewed)
    sampling_hooks.on_skip("reviews", release_skipped_draft)
    sampling_hooks.on_review_lookup("reviews", reviews_of_assignments)
