"""The models of /api/v1/calibration/sessions: queries, the rating body, the session answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from qa_app.api.formats import Moment, Url
from qa_app.api.models import (
    Answer,
    Body,
    FlagField,
    IdField,
    PageAnswer,
    PersonRef,
    SometimesAnswer,
    invalid_as,
)
from qa_app.api.params import Flag, PageQuery, Query, one_of_enum
from qa_app.calibration.models import RatingStatus, SessionStatus
from qa_app.conversations.api_models import ConversationDetail
from qa_app.reviews.answers import MAX_COMMENT_LENGTH
from qa_app.reviews.api_answers import AnswersField, CommentsField
from qa_app.scorecards.scoring import CriterionKind

STATUSES = tuple(status.value for status in SessionStatus)
COMMENT_LIMIT = f"must be text of at most {MAX_COMMENT_LENGTH} characters"

# Requests ----------------------------------------------------------------------------------------


class SessionsQuery(PageQuery):
    status: Annotated[SessionStatus | None, one_of_enum(STATUSES)] = Field(
        None, description="Only this status."
    )


class ResultsQuery(Query):
    intervals: Flag = Field(
        True,
        description="false skips the bootstrap intervals. Also accepts 1/0, yes/no, on/off.",
    )


class RatingInput(Body):
    """The caller's answers for one conversation of the session, submitted when submit is
    true."""

    noun = "rating"
    conversation_id: IdField
    answers: AnswersField = Field(default_factory=dict)
    comments: CommentsField = Field(default_factory=dict)
    overall_comment: Annotated[
        StrictStr, Field(max_length=MAX_COMMENT_LENGTH), invalid_as(COMMENT_LIMIT)
    ] = ""
    submit: FlagField = False


# Answers -----------------------------------------------------------------------------------------


class RaterGroup(Answer):
    key: str
    label: str


class RaterRef(Answer):
    id: int
    name: str
    group: RaterGroup


class RatingAnswer(Answer):
    criterion: str
    value: str | int | None = Field(
        description='"yes", "no", "na", a whole number, or null when unanswered.'
    )
    comment: str


class Rating(Answer):
    """A calibration rating; answers in scorecard order."""

    status: RatingStatus
    score: float | None
    auto_failed: bool
    overall_comment: str
    updated_at: Moment
    submitted_at: Moment | None
    answers: list[RatingAnswer]


class RaterRating(Rating):
    """A rater's submitted rating."""

    rater: RaterRef


class SavedRating(Rating):
    """The saved rating."""

    session_id: int
    conversation_id: int


class SessionScorecard(Answer):
    id: int
    name: str
    version: int


class You(Answer):
    facilitator: bool
    rater: bool
    submitted: int | None


class CalibrationSession(Answer):
    """A calibration session summary."""

    id: int
    title: str
    status: SessionStatus
    blind: bool
    scorecard: SessionScorecard
    facilitator: PersonRef
    due_at: Moment
    created_at: Moment
    revealed_at: Moment | None
    closed_at: Moment | None
    conversation_count: int
    rater_count: int
    you: You
    url: Url
    results_url: Url


class CalibrationSessionPage(PageAnswer):
    items: list[CalibrationSession]


class CalibrationCriterion(Answer):
    key: str
    title: str
    section: str
    kind: CriterionKind
    allow_na: bool
    scale_max: int | None
    scale_labels: list[str]
    max_points: int | None


class SessionConversation(Answer):
    id: int
    external_id: str
    channel: str
    started_at: Moment


class SessionItem(SometimesAnswer):
    position: int
    conversation: SessionConversation
    yours: Rating | None = Field(default=None, description="Raters only.")
    benchmark: Rating | None = Field(default=None, description="After the reveal only.")
    ratings: list[RaterRating] = Field(default_factory=list, description="After the reveal only.")
    answer_counts: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="After the reveal only: per criterion key, how often each answer was given.",
    )


class RaterProgress(Answer):
    rater: RaterRef
    submitted: int
    total: int
    done: bool


class NoteAuthor(Answer):
    id: int | None
    name: str


class Note(Answer):
    id: int
    body: str
    author: NoteAuthor
    conversation_id: int | None
    criterion: str | None
    is_decision: bool
    created_at: Moment
    applied_to_version_id: int | None


class CalibrationSessionDetail(CalibrationSession, SometimesAnswer):
    """A calibration session in full."""

    instructions: str
    tolerance: float
    criteria: list[CalibrationCriterion]
    raters: list[RaterRef]
    items: list[SessionItem]
    progress: list[RaterProgress] = Field(default_factory=list, description="Facilitators only.")
    notes: list[Note] = Field(default_factory=list, description="After the reveal only.")


class CalibrationConversation(Answer):
    session_id: int
    position: int
    conversation: ConversationDetail
    yours: Rating | None
