"""The models of /api/v1/reviews: the list's query, the scoring body, and the answers."""

from __future__ import annotations

from typing import Annotated, Any

from flask import url_for
from pydantic import Field

from qa_app.api.formats import Moment, Url
from qa_app.api.models import (
    AgentRef,
    Answer,
    Body,
    FlagField,
    IdField,
    OptionalIdField,
    PageAnswer,
    PersonRef,
    TextField,
    agent_ref,
)
from qa_app.api.params import Id, PageQuery, Score, Since, Until, one_of_enum
from qa_app.reviews import models
from qa_app.reviews.answers import ordered_criteria
from qa_app.reviews.api_answers import AnswersField, CommentsField
from qa_app.reviews.models import DisputeOutcome, ReviewStatus
from qa_app.scorecards.models import Criterion
from qa_app.scorecards.scoring import NA, CriterionKind

STATUSES = tuple(status.value for status in ReviewStatus)

# Requests ----------------------------------------------------------------------------------------


class ReviewsQuery(PageQuery):
    status: Annotated[ReviewStatus | None, one_of_enum(STATUSES)] = Field(
        None, description="Only this status."
    )
    agent_id: Id = Field(None, description="The agent's id.")
    team_id: Id = Field(None, description="The team's id.")
    score_min: Score = Field(None, description="Lowest score.")
    score_max: Score = Field(None, description="Highest score.")
    scorecard_id: Id = Field(None, description="The scorecard's id.")
    reviewer_id: Id = Field(None, description="The reviewer's user id.")
    conversation_id: Id = Field(None, description="The conversation's id.")
    from_: Since = Field(None, alias="from", description="Submitted at or after.")
    to: Until = Field(None, description="Submitted before (a date: up to the end of that day).")


class ReviewInput(Body):
    """The caller's review of a conversation: started (or continued) and saved, submitted when
    submit is true."""

    noun = "review"
    conversation_id: IdField
    scorecard_id: OptionalIdField | None = None
    answers: AnswersField = Field(default_factory=dict)
    comments: CommentsField = Field(default_factory=dict)
    overall_comment: TextField = ""
    submit: FlagField = False


# Answers -----------------------------------------------------------------------------------------


class ReviewedConversation(Answer):
    id: int
    external_id: str
    channel: str


class ReviewTeam(Answer):
    id: int
    name: str | None


class ReviewScorecard(Answer):
    id: int
    name: str
    version: int


class ReviewSummary(Answer):
    id: int
    status: ReviewStatus
    conversation: ReviewedConversation
    agent: AgentRef | None
    team: ReviewTeam | None
    reviewer: PersonRef
    scorecard: ReviewScorecard
    score: float | None
    auto_failed: bool
    section_scores: dict[str, Any] = Field(description="Score per section.")
    created_at: Moment
    submitted_at: Moment | None
    acknowledged_at: Moment | None
    updated_at: Moment
    url: Url


class ReviewPage(PageAnswer):
    items: list[ReviewSummary]


class ReviewAnswer(Answer):
    criterion: str
    title: str
    section: str
    value: str | int | None = Field(
        description='"yes", "no", "na", a whole number, or null when unanswered.'
    )
    comment: str


class Dispute(Answer):
    id: int
    reason: str
    raised_by: PersonRef
    raised_at: Moment
    outcome: DisputeOutcome | None
    resolution_note: str
    resolved_by: PersonRef | None
    resolved_at: Moment | None


class Review(ReviewSummary):
    overall_comment: str
    answers: list[ReviewAnswer]
    disputes: list[Dispute]


# Building them -----------------------------------------------------------------------------------


def _answer_value(criterion: Criterion, value: str | None) -> str | int | None:
    if value is None or value == NA or criterion.kind == CriterionKind.YES_NO:
        return value
    return int(value)


def _summary_fields(review: models.Review, team_names: dict[int, str]) -> dict[str, Any]:
    version = review.scorecard_version
    team_id = review.team_id
    return {
        "id": review.id,
        "status": review.status,
        "conversation": ReviewedConversation(
            id=review.conversation.id,
            external_id=review.conversation.external_id,
            channel=review.conversation.channel,
        ),
        "agent": agent_ref(review.agent),
        "team": None if team_id is None else ReviewTeam(id=team_id, name=team_names.get(team_id)),
        "reviewer": PersonRef(id=review.reviewer.id, name=review.reviewer.name),
        "scorecard": ReviewScorecard(
            id=version.scorecard_id, name=version.scorecard.name, version=version.number
        ),
        "score": review.score,
        "auto_failed": review.auto_failed,
        "section_scores": review.section_scores or {},
        "created_at": review.created_at,
        "submitted_at": review.submitted_at,
        "acknowledged_at": review.acknowledged_at,
        "updated_at": review.updated_at,
        "url": url_for("api.get_review", review_id=review.id, _external=True),
    }


def review_summary(review: models.Review, team_names: dict[int, str]) -> ReviewSummary:
    """Expects conversation, agent, reviewer and scorecard_version.scorecard loaded."""
    return ReviewSummary(**_summary_fields(review, team_names))


def _dispute(dispute: models.Dispute) -> Dispute:
    resolver = dispute.resolved_by
    return Dispute(
        id=dispute.id,
        reason=dispute.reason,
        raised_by=PersonRef(id=dispute.raised_by.id, name=dispute.raised_by.name),
        raised_at=dispute.raised_at,
        outcome=dispute.outcome,
        resolution_note=dispute.resolution_note,
        resolved_by=None if resolver is None else PersonRef(id=resolver.id, name=resolver.name),
        resolved_at=dispute.resolved_at,
    )


def review_detail(review: models.Review, team_names: dict[int, str]) -> Review:
    """The summary, the overall comment, every criterion's answer in scorecard order, disputes."""
    answers = {answer.criterion_id: answer for answer in review.answers}
    rows = []
    for criterion in ordered_criteria(review.scorecard_version):
        answer = answers.get(criterion.id)
        rows.append(
            ReviewAnswer(
                criterion=criterion.key,
                title=criterion.title,
                section=criterion.section.title,
                value=_answer_value(criterion, answer.value if answer else None),
                comment=answer.comment if answer else "",
            )
        )
    return Review(
        **_summary_fields(review, team_names),
        overall_comment=review.overall_comment,
        answers=rows,
        disputes=[_dispute(dispute) for dispute in review.disputes],
    )
