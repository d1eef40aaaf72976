"""/api/v1/reviews: list and read the reviews a token's user may see; reviewers score through it.

Visibility is the web UI's: the partner scope, and drafts only for their own reviewer. A POST
starts (or continues) the caller's draft of a conversation, saves the answers given by criterion
key, and submits it when ``submit`` is true; any problem answers 422 listing every problem, and
then nothing is saved.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from qa_app.api.auth import api_user
from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.models import next_page_url
from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.org.roles import Role
from qa_app.org.scope import get_scoped
from qa_app.pagination import paginate
from qa_app.reviews import queries, services
from qa_app.reviews.answers import MissingAnswers
from qa_app.reviews.api_answers import read_answers
from qa_app.reviews.api_models import (
    Review,
    ReviewInput,
    ReviewPage,
    ReviewsQuery,
    review_detail,
    review_summary,
)
from qa_app.reviews.models import Dispute, ReviewAnswer
from qa_app.reviews.models import Review as ReviewRow
from qa_app.reviews.services import REVIEWER_ROLES
from qa_app.sampling.models import ReviewAssignment
from qa_app.scorecards.scoring import AnswerError
from qa_app.scorecards.services import published_version, scorecard_for_conversation
from qa_app.service_errors import Invalid, NotFound

# Reading ----------------------------------------------------------------------------------------


def _filtered(stmt: Select[Any], query: ReviewsQuery) -> Select[Any]:
    filters = queries.ReviewFilters(
        agent_id=query.agent_id,
        team_id=query.team_id,
        status=query.status,
        score_min=query.score_min,
        score_max=query.score_max,
        scorecard_id=query.scorecard_id,
        reviewer_id=query.reviewer_id,
        conversation_id=query.conversation_id,
    )
    stmt = queries.apply_filters(stmt, filters)
    if query.from_ is not None:
        stmt = stmt.where(ReviewRow.submitted_at >= query.from_)
    if query.to is not None:
        stmt = stmt.where(ReviewRow.submitted_at < query.to)
    return stmt


@bp.get("/reviews")
@endpoint(Role, operation_id="listReviews", tag="reviews", answers={200: ReviewPage})
def list_reviews(query: ReviewsQuery) -> ReviewPage:
    """List reviews the user may see, newest first."""
    session = get_session()
    stmt = _filtered(queries.review_list(api_user(), queries.ReviewFilters()), query)
    result = paginate(session, stmt.options(*queries.list_loading()), query.page, query.per_page)
    teams = queries.team_names(session, [review.team_id for review in result.items])
    return ReviewPage(
        items=[review_summary(review, teams) for review in result.items],
        page=query.page,
        per_page=query.per_page,
        total=result.total,
        next=next_page_url("api.list_reviews", query.page, result.has_next),
    )


def _load_detail(session: Session, review_id: int, user: User) -> ReviewRow | None:
    stmt = (
        queries.visible_reviews(user)
        .where(ReviewRow.id == review_id)
        .options(
            *queries.list_loading(),
            selectinload(ReviewRow.answers).joinedload(ReviewAnswer.criterion),
            selectinload(ReviewRow.disputes).joinedload(Dispute.raised_by),
            selectinload(ReviewRow.disputes).joinedload(Dispute.resolved_by),
        )
    )
    review: ReviewRow | None = session.scalars(stmt).unique().one_or_none()
    return review


def _detail(session: Session, review: ReviewRow) -> Review:
    return review_detail(review, queries.team_names(session, [review.team_id]))


@bp.get("/reviews/<int:review_id>")
@endpoint(Role, operation_id="getReview", tag="reviews", answers={200: Review}, errors=[404])
def get_review(review_id: int) -> Review:
    """One review with answers and disputes."""
    session = get_session()
    review = _load_detail(session, review_id, api_user())
    if review is None:
        raise NotFound("There is no such review, or it is not yours to see.")
    return _detail(session, review)


# Scoring ----------------------------------------------------------------------------------------


def _my_assignment(
    session: Session, user: User, conversation: Conversation
) -> ReviewAssignment | None:
    stmt = select(ReviewAssignment).where(
        ReviewAssignment.conversation_id == conversation.id,
        ReviewAssignment.reviewer_id == user.id,
        ReviewAssignment.status.in_(queries.QUEUE_STATUSES),
    )
    return session.scalars(stmt.order_by(ReviewAssignment.id).limit(1)).first()


def _start(
    session: Session, user: User, conversation: Conversation, body: ReviewInput
) -> ReviewRow:
    """The caller's draft of the conversation: existing, from an assignment, or new."""
    scorecard_id = body.scorecard_id
    draft = services.draft_of(session, user, conversation.id)
    if draft is not None:
        if scorecard_id is not None and draft.scorecard_version.scorecard_id != scorecard_id:
            raise Invalid("your draft of this conversation uses another one", "scorecard_id")
        return draft
    assignment = _my_assignment(session, user, conversation)
    if assignment is not None and scorecard_id in (None, assignment.scorecard_id):
        return services.start_review(session, conversation, user, assignment=assignment)
    if scorecard_id is not None:
        version = published_version(session, scorecard_id)
        if version is None:
            raise Invalid("no published scorecard has this id", "scorecard_id")
    else:
        version = scorecard_for_conversation(session, conversation)
        if version is None:
            raise Invalid("no published scorecard applies; give one", "scorecard_id")
    return services.start_review(session, conversation, user, version=version)


def _score(session: Session, user: User, body: ReviewInput) -> tuple[ReviewRow, bool]:
    """Start or continue the draft, save the answers, submit if asked; (review, created)."""
    conversation = get_scoped(session, Conversation, body.conversation_id, user)
    if conversation is None:
        raise Invalid("no such conversation, or not yours to see", "conversation_id")
    created = services.draft_of(session, user, conversation.id) is None
    review = _start(session, user, conversation, body)
    answers = read_answers(review.scorecard_version, body.answers, body.comments)
    try:
        services.save_draft(session, review, answers, body.overall_comment, by=user)
        if body.submit:
            services.submit_review(session, review, by=user)
    except MissingAnswers as missing:
        keys = {criterion.id: criterion.key for criterion in review.scorecard_version.criteria}
        raise Invalid.of(
            [(f"answers.{keys[i]}", "is required to submit") for i in missing.criterion_ids]
        ) from None
    except AnswerError as error:
        raise Invalid(str(error)) from None
    return review, created


SAVED = {
    "Location": {
        "description": "The URL of the saved review.",
        "schema": {"type": "string", "format": "uri"},
    }
}


@bp.post("/reviews")
@endpoint(
    REVIEWER_ROLES,
    operation_id="scoreConversation",
    tag="reviews",
    answers={
        200: (Review, "The caller's draft was updated."),
        201: (Review, "A review was started."),
    },
    errors=[403],
    extra={"responses": {"200": {"headers": SAVED}, "201": {"headers": SAVED}}},
)
def create_review(json: ReviewInput) -> tuple[Review, int, dict[str, str]]:
    """Save (and submit) the caller's review of a conversation."""
    session = get_session()
    user = api_user()
    review, created = _score(session, user, json)
    session.commit()
    loaded = _load_detail(session, review.id, user)
    assert loaded is not None  # the caller reviewed it, so it is theirs to see
    location = url_for("api.get_review", review_id=review.id, _external=True)
    return _detail(session, loaded), 201 if created else 200, {"Location": location}
