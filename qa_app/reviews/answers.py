"""A review's answers: validating, storing and scoring them; snapshots for the audit trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qa_app.reviews.models import Review, ReviewAnswer
from qa_app.scorecards.models import Criterion, ScorecardVersion
from qa_app.scorecards.scoring import NA, Answer, AnswerError, CriterionKind, answer_fraction
from qa_app.scorecards.scoring import score_review as score_answers
from qa_app.service_errors import Invalid

MAX_COMMENT_LENGTH = 5000

AnswerInput = tuple[str | None, str | None]
"""(value, comment) for one criterion; value "yes", "no", "na", a whole number as text, or None."""


class ReviewError(Invalid):
    """A workflow step that is not allowed now, or not to this user; the message says why.

    Answered by the API as a problem of the request (422) with no one field to blame.
    """


class ReviewAnswerError(AnswerError):
    """Answers that are missing or invalid; names the criteria (``criterion_ids``) concerned."""

    def __init__(self, message: str, criterion_ids: Sequence[int]) -> None:
        super().__init__(message)
        self.criterion_ids = tuple(criterion_ids)


class MissingAnswers(ReviewAnswerError):
    """Submitting needs every criterion answered; ``criterion_ids`` are the unanswered ones."""


# Answers ----------------------------------------------------------------------------------------


def ordered_criteria(version: ScorecardVersion) -> list[Criterion]:
    """The criteria of a version in display order (section by section)."""
    return [criterion for section in version.sections for criterion in section.criteria]


def _criterion_error(criterion: Criterion, reason: str) -> ReviewAnswerError:
    return ReviewAnswerError(f"{criterion.title} ({criterion.key}): {reason}", [criterion.id])


def normalise_value(value: str | int | None) -> str | None:
    """Stored form of an answer: "yes", "no", "na" or digits; blank means not answered."""
    text = "" if value is None else str(value).strip().lower()
    return text or None


def to_answer(criterion: Criterion, value: str) -> Answer:
    """The scoring answer for a stored value; raises ReviewAnswerError naming the criterion."""
    answer: Answer
    if value == NA:
        answer = NA
    elif criterion.kind == CriterionKind.YES_NO:
        answer = value
    else:
        try:
            answer = int(value)
        except ValueError:
            raise _criterion_error(criterion, f"answer a whole number, got {value!r}") from None
    try:
        answer_fraction(criterion.rule(), answer)
    except AnswerError as error:
        reason = str(error).removeprefix(f"{criterion.key}: ")
        raise _criterion_error(criterion, reason) from None
    return answer


def answer_snapshot(review: Review) -> dict[str, dict[str, str | None]]:
    """Every answer of a review by criterion key, as the audit trail keeps it."""
    return {
        answer.criterion.key: {"value": answer.value, "comment": answer.comment}
        for answer in review.answers
    }


def _answer_json(value: str | None, comment: str) -> dict[str, str | None]:
    return {"value": value, "comment": comment}


def clean_comment(comment: str | None, what: str) -> str:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT_LENGTH:
        raise ReviewError(f"{what} is longer than {MAX_COMMENT_LENGTH} characters.")
    return text


def apply_answers(
    review: Review, answers: Mapping[int, AnswerInput]
) -> dict[str, dict[str, dict[str, str | None]]]:
    """Validate all answers first, then apply them; returns the per-key diff of what changed."""
    criteria = {criterion.id: criterion for criterion in review.scorecard_version.criteria}
    cleaned: list[tuple[Criterion, str | None, str]] = []
    for criterion_id, (raw_value, raw_comment) in answers.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            raise ReviewError(f"Criterion {criterion_id} is not on this review's scorecard.")
        value = normalise_value(raw_value)
        if value is not None:
            to_answer(criterion, value)
        comment = clean_comment(raw_comment, f"The comment on {criterion.title}")
        cleaned.append((criterion, value, comment))
    current = {answer.criterion_id: answer for answer in review.answers}
    changes: dict[str, dict[str, dict[str, str | None]]] = {}
    for criterion, value, comment in cleaned:
        row = current.get(criterion.id)
        old = (row.value, row.comment) if row is not None else (None, "")
        if old == (value, comment):
            continue
        if row is None:
            review.answers.append(
                ReviewAnswer(
                    criterion_id=criterion.id, criterion=criterion, value=value, comment=comment
                )
            )
        else:
            row.value, row.comment = value, comment
        changes[criterion.key] = {"from": _answer_json(*old), "to": _answer_json(value, comment)}
    return changes


def score(review: Review) -> dict[str, dict[str, Any]]:
    """Score the review's answers and store the result; returns the diff of the result."""
    criteria = ordered_criteria(review.scorecard_version)
    values = {answer.criterion_id: answer.value for answer in review.answers}
    missing = [criterion for criterion in criteria if values.get(criterion.id) is None]
    if missing:
        names = ", ".join(f"{criterion.title} ({criterion.key})" for criterion in missing)
        raise MissingAnswers(f"Not answered: {names}.", [criterion.id for criterion in missing])
    by_key = {
        criterion.key: to_answer(criterion, values[criterion.id] or "") for criterion in criteria
    }
    result = score_answers(review.scorecard_version.rules(), by_key)
    diff: dict[str, dict[str, Any]] = {}
    for field, new in (
        ("score", result.score),
        ("auto_failed", result.auto_failed),
        ("section_scores", dict(result.section_scores)),
    ):
        old = getattr(review, field)
        if old != new:
            diff[field] = {"from": old, "to": new}
        setattr(review, field, new)
    return diff
