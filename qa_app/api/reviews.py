"""/api/v1/reviews: list and read the reviews a token's user may see; reviewers score through it.

Visibility is the web UI's: the partner scope, and drafts only for their own reviewer. A POST
starts (or continues) the caller's draft of a conversation, saves the answers given by criterion
key, and submits it when ``submit`` is true; any problem answers 422 listing every problem, and
then nothing is saved.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from qa_app.api.auth import api_roles, api_user
from qa_app.api.blueprint import bp
from qa_app.api.errors import ApiError
from qa_app.api.params import choice_arg, int_arg, moment_arg
from qa_app.api.review_bodies import (
    Invalid,
    check_shape,
    invalid_response,
    read_answers,
    review_body,
)
from qa_app.api.serializers import agent_ref, iso
from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.org.roles import Role
from qa_app.org.scope import get_scoped
from qa_app.pagination import MAX_PER_PAGE, paginate
from qa_app.reviews import queries, services
from qa_app.reviews.answers import MissingAnswers, ordered_criteria
from qa_app.reviews.models import Dispute, Review, ReviewAnswer, ReviewStatus
from qa_app.reviews.services import REVIEWER_ROLES
from qa_app.sampling.models import ReviewAssignment
from qa_app.scorecards.models import Criterion
from qa_app.scorecards.scoring import NA, AnswerError, CriterionKind
from qa_app.scorecards.services import published_version, scorecard_for_conversation

DEFAULT_PER_PAGE = 50
STATUSES = tuple(status.value for status in ReviewStatus)

# JSON shapes ------------------------------------------------------------------------------------


def _answer_value(criterion: Criterion, value: str | None) -> str | int | None:
    if value is None or value == NA or criterion.kind == CriterionKind.YES_NO:
        return value
    return int(value)


def review_summary(review: Review, team_names: dict[int, str]) -> dict[str, Any]:
    """Expects conversation, agent, reviewer and scorecard_version.scorecard loaded."""
    version = review.scorecard_version
    team_id = review.team_id
    return {
        "id": review.id,
        "status": review.status.value,
        "conversation": {
            "id": review.conversation.id,
            "external_id": review.conversation.external_id,
            "channel": review.conversation.channel,
        },
        "agent": agent_ref(review.agent),
        "team": None if team_id is None else {"id": team_id, "name": team_names.get(team_id)},
        "reviewer": {"id": review.reviewer.id, "name": review.reviewer.name},
        "scorecard": {
            "id": version.scorecard_id,
            "name": version.scorecard.name,
            "version": version.number,
        },
        "score": review.score,
        "auto_failed": review.auto_failed,
        "section_scores": review.section_scores or {},
        "created_at": iso(review.created_at),
        "submitted_at": iso(review.submitted_at),
        "acknowledged_at": iso(review.acknowledged_at),
        "updated_at": iso(review.updated_at),
        "url": url_for("api.get_review", review_id=review.id, _external=True),
    }


def _dispute(dispute: Dispute) -> dict[str, Any]:
    resolver = dispute.resolved_by
    return {
        "id": dispute.id,
        "reason": dispute.reason,
        "raised_by": {"id": dispute.raised_by.id, "name": dispute.raised_by.name},
        "raised_at": iso(dispute.raised_at),
        "outcome": dispute.outcome.value if dispute.outcome else None,
        "resolution_note": dispute.resolution_note,
        "resolved_by": None if resolver is None else {"id": resolver.id, "name": resolver.name},
        "resolved_at": iso(dispute.resolved_at),
    }


def review_detail(review: Review, team_names: dict[int, str]) -> dict[str, Any]:
    """The summary, the overall comment, every criterion's answer in scorecard order, disputes."""
    answers = {answer.criterion_id: answer for answer in review.answers}
    rows = []
    for criterion in ordered_criteria(review.scorecard_version):
        answer = answers.get(criterion.id)
        rows.append(
            {
                "criterion": criterion.key,
                "title": criterion.title,
                "section": criterion.section.title,
                "value": _answer_value(criterion, answer.value if answer else None),
                "comment": answer.comment if answer else "",
            }
        )
    return {
        **review_summary(review, team_names),
        "overall_comment": review.overall_comment,
        "answers": rows,
        "disputes": [_dispute(dispute) for dispute in review.disputes],
    }


# Reading ----------------------------------------------------------------------------------------


def _loaded(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(*queries.list_loading())


def _score_arg(name: str) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, f"Query parameter '{name}' must be a number, got {raw!r}.") from None
    if not 0 <= value <= 100:
        raise ApiError(400, f"Query parameter '{name}' must be between 0 and 100, got {raw!r}.")
    return value


def _filtered(stmt: Select[Any]) -> Select[Any]:
    status = choice_arg("status", STATUSES)
    filters = queries.ReviewFilters(
        agent_id=int_arg("agent_id"),
        team_id=int_arg("team_id"),
        status=ReviewStatus(status) if status else None,
        score_min=_score_arg("score_min"),
        score_max=_score_arg("score_max"),
        scorecard_id=int_arg("scorecard_id"),
        reviewer_id=int_arg("reviewer_id"),
        conversation_id=int_arg("conversation_id"),
    )
    stmt = queries.apply_filters(stmt, filters)
    submitted_from = moment_arg("from")
    if submitted_from is not None:
        stmt = stmt.where(Review.submitted_at >= submitted_from)
    submitted_to = moment_arg("to", end_of_day=True)
    if submitted_to is not None:
        stmt = stmt.where(Review.submitted_at < submitted_to)
    return stmt


@bp.get("/reviews")
@api_roles(Role)
def list_reviews() -> Response:
    """List the reviews the token's user may see, newest first, with filters."""
    session = get_session()
    page = int_arg("page", 1) or 1
    per_page = min(int_arg("per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE, MAX_PER_PAGE)
    stmt = _loaded(_filtered(queries.review_list(api_user(), queries.ReviewFilters())))
    result = paginate(session, stmt, page, per_page)
    teams = queries.team_names(session, [review.team_id for review in result.items])
    next_url = None
    if result.has_next:
        # Keys starting with "_" would be read by url_for as options, not as query arguments.
        args: dict[str, Any] = {
            key: values for key, values in request.args.lists() if not key.startswith("_")
        }
        args["page"] = [str(page + 1)]
        next_url = url_for("api.list_reviews", **args, _external=True)
    return jsonify(
        {
            "items": [review_summary(review, teams) for review in result.items],
            "page": page,
            "per_page": per_page,
            "total": result.total,
            "next": next_url,
        }
    )


def _load_detail(session: Session, review_id: int, user: User) -> Review | None:
    stmt = _loaded(queries.visible_reviews(user).where(Review.id == review_id)).options(
        selectinload(Review.answers).joinedload(ReviewAnswer.criterion),
        selectinload(Review.disputes).joinedload(Dispute.raised_by),
        selectinload(Review.disputes).joinedload(Dispute.resolved_by),
    )
    review: Review | None = session.scalars(stmt).unique().one_or_none()
    return review


def _detail_response(session: Session, review: Review) -> dict[str, Any]:
    return review_detail(review, queries.team_names(session, [review.team_id]))


@bp.get("/reviews/<int:review_id>")
@api_roles(Role)
def get_review(review_id: int) -> Response:
    """One review with its answers and disputes; 404 when missing or out of scope."""
    session = get_session()
    review = _load_detail(session, review_id, api_user())
    if review is None:
        raise ApiError(404, "There is no such review, or it is not yours to see.")
    return jsonify(_detail_response(session, review))


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
    session: Session, user: User, conversation: Conversation, body: dict[str, Any]
) -> Review:
    """The caller's draft of the conversation: existing, from an assignment, or new."""
    scorecard_id = body.get("scorecard_id")
    draft = services.draft_of(session, user, conversation.id)
    if draft is not None:
        if scorecard_id is not None and draft.scorecard_version.scorecard_id != scorecard_id:
            raise Invalid([("scorecard_id", "your draft of this conversation uses another one")])
        return draft
    assignment = _my_assignment(session, user, conversation)
    if assignment is not None and scorecard_id in (None, assignment.scorecard_id):
        return services.start_review(session, conversation, user, assignment=assignment)
    if scorecard_id is not None:
        version = published_version(session, scorecard_id)
        if version is None:
            raise Invalid([("scorecard_id", "no published scorecard has this id")])
    else:
        version = scorecard_for_conversation(session, conversation)
        if version is None:
            raise Invalid([("scorecard_id", "no published scorecard applies; give one")])
    return services.start_review(session, conversation, user, version=version)


def _score(session: Session, user: User, body: dict[str, Any]) -> tuple[Review, bool]:
    """Start or continue the draft, save the answers, submit if asked; (review, created)."""
    conversation = get_scoped(session, Conversation, body["conversation_id"], user)
    if conversation is None:
        raise Invalid([("conversation_id", "no such conversation, or not yours to see")])
    created = services.draft_of(session, user, conversation.id) is None
    try:
        review = _start(session, user, conversation, body)
    except services.ReviewError as error:
        raise Invalid([(None, str(error))]) from None
    answers = read_answers(review.scorecard_version, body)
    try:
        services.save_draft(session, review, answers, body.get("overall_comment"), by=user)
        if body.get("submit", False):
            services.submit_review(session, review, by=user)
    except MissingAnswers as missing:
        keys = {criterion.id: criterion.key for criterion in review.scorecard_version.criteria}
        problems = [(f"answers.{keys[i]}", "is required to submit") for i in missing.criterion_ids]
        raise Invalid(list(problems)) from None
    except (services.ReviewError, AnswerError) as error:
        raise Invalid([(None, str(error))]) from None
    return review, created


@bp.post("/reviews")
@api_roles(REVIEWER_ROLES)
def create_review() -> tuple[Response, int]:
    """Score a conversation: save the caller's draft with these answers, and submit it if asked."""
    session = get_session()
    body = review_body()
    problems = check_shape(body)
    if problems:
        return invalid_response(problems)
    user = api_user()
    try:
        review, created = _score(session, user, body)
    except Invalid as invalid:
        session.rollback()
        return invalid_response(invalid.problems)
    session.commit()
    loaded = _load_detail(session, review.id, user)
    assert loaded is not None  # the caller reviewed it, so it is theirs to see
    response = jsonify(_detail_response(session, loaded))
    response.headers["Location"] = url_for("api.get_review", review_id=review.id, _external=True)
    return response, 201 if created else 200
