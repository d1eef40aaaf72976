"""Rating in a calibration session (the blind phase), and saving ratings and benchmarks.

A rating is created on its first save. Two first saves at once (a double click, two API calls)
must not both insert: :func:`save_rating_row` goes through ``qa_app.concurrency.save_once``, so
the second finds the first's rating, locked, and saves its answers onto it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qa_app.auth.models import User
from qa_app.calibration.errors import (
    CalibrationAnswerError,
    CalibrationError,
    CalibrationMissingAnswers,
)
from qa_app.calibration.models import (
    CalibrationAnswer,
    CalibrationItem,
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
)
from qa_app.concurrency import locked, save_once
from qa_app.db import utcnow
from qa_app.reviews.answers import (
    AnswerInput,
    ReviewError,
    clean_comment,
    normalise_value,
    ordered_criteria,
    to_answer,
)
from qa_app.scorecards.models import ScorecardVersion
from qa_app.scorecards.scoring import AnswerError
from qa_app.scorecards.scoring import score_review as score_answers


def clean_text(text: str | None, what: str) -> str:
    """Stripped text within the comment length, or a CalibrationError saying what is too long."""
    try:
        return clean_comment(text, what)
    except ReviewError as error:
        raise CalibrationError(str(error)) from None


def rater_of(calibration: CalibrationSession, user: User) -> CalibrationRater | None:
    return next((rater for rater in calibration.raters if rater.user_id == user.id), None)


def item_of(calibration: CalibrationSession, conversation_id: int) -> CalibrationItem | None:
    return next(
        (item for item in calibration.items if item.conversation_id == conversation_id), None
    )


def rating_of(
    session: Session,
    calibration: CalibrationSession,
    conversation_id: int,
    user: User | None,
    *,
    lock: bool = False,
) -> CalibrationRating | None:
    """A rater's rating of a conversation (``user`` None: the benchmark); ``lock`` to change it
    (see qa_app.concurrency: concurrent saves of one rating run one after the other)."""
    stmt = select(CalibrationRating).where(
        CalibrationRating.session_id == calibration.id,
        CalibrationRating.conversation_id == conversation_id,
    )
    if user is None:
        stmt = stmt.where(CalibrationRating.is_benchmark.is_(True))
    else:
        stmt = stmt.where(CalibrationRating.rater_id == user.id)
    stmt = stmt.options(selectinload(CalibrationRating.answers))
    return session.scalars(locked(session, stmt) if lock else stmt).one_or_none()


def save_rating_row(
    session: Session,
    calibration: CalibrationSession,
    conversation_id: int,
    rater: User | None,
    change: Callable[[CalibrationRating], None],
) -> tuple[CalibrationRating, bool]:
    """Get or create a rating (``rater`` None: the benchmark) and apply ``change`` to it, safe
    against a concurrent first save of the same rating; (rating, created)."""

    def make() -> CalibrationRating:
        rater_id = None if rater is None else rater.id
        return CalibrationRating(
            session_id=calibration.id,
            conversation_id=conversation_id,
            rater_id=rater_id,
            is_benchmark=rater is None,
        )

    def find() -> CalibrationRating | None:
        return rating_of(session, calibration, conversation_id, rater, lock=True)

    return save_once(session, find, make, change)


def validated_answers(
    version: ScorecardVersion, answers: Mapping[int, AnswerInput], *, complete: bool
) -> dict[int, tuple[str | None, str]]:
    criteria = {criterion.id: criterion for criterion in version.criteria}
    cleaned: dict[int, tuple[str | None, str]] = {}
    invalid: list[str] = []
    invalid_ids: list[int] = []
    for criterion_id, (raw_value, raw_comment) in answers.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            raise CalibrationError(f"Criterion {criterion_id} is not on this session's scorecard.")
        value = normalise_value(raw_value)
        if value is not None:
            try:
                to_answer(criterion, value)
            except AnswerError as error:
                invalid.append(str(error))
                invalid_ids.append(criterion_id)
                continue
        comment = clean_text(raw_comment, f"The comment on {criterion.title}")
        cleaned[criterion_id] = (value, comment)
    if invalid:
        raise CalibrationAnswerError(" ".join(invalid), invalid_ids)
    if complete:
        missing = [c for c in ordered_criteria(version) if cleaned.get(c.id, (None, ""))[0] is None]
        if missing:
            names = ", ".join(f"{c.title} ({c.key})" for c in missing)
            raise CalibrationMissingAnswers(f"Not answered: {names}.", [c.id for c in missing])
    return cleaned


def store_answers(
    rating: CalibrationRating,
    version: ScorecardVersion,
    cleaned: Mapping[int, tuple[str | None, str]],
    overall_comment: str,
    *,
    submit: bool,
) -> None:
    current = {answer.criterion_id: answer for answer in rating.answers}
    for criterion_id, (value, comment) in cleaned.items():
        row = current.get(criterion_id)
        if row is None:
            rating.answers.append(
                CalibrationAnswer(criterion_id=criterion_id, value=value, comment=comment)
            )
        else:
            row.value, row.comment = value, comment
    rating.overall_comment = clean_text(overall_comment, "The overall comment")
    rating.updated_at = utcnow()
    if submit:
        criteria = {criterion.id: criterion for criterion in version.criteria}
        by_key = {
            criteria[criterion_id].key: to_answer(criteria[criterion_id], value or "")
            for criterion_id, (value, _) in cleaned.items()
        }
        result = score_answers(version.rules(), by_key)
        rating.score = result.score
        rating.auto_failed = result.auto_failed
        rating.status = RatingStatus.SUBMITTED
        rating.submitted_at = rating.updated_at
    else:
        # Answers saved as a draft are no longer the submitted (and scored) ones: the rating
        # counts again only once submitted again.
        rating.status = RatingStatus.DRAFT
        rating.score = None
        rating.auto_failed = False
        rating.submitted_at = None


def merged_answers(
    rating: CalibrationRating | None, answers: Mapping[int, AnswerInput]
) -> dict[int, AnswerInput]:
    """Stored answers overlaid with the new ones, so a submit checks the whole rating."""
    merged: dict[int, AnswerInput] = {}
    for answer in rating.answers if rating else []:
        merged[answer.criterion_id] = (answer.value, answer.comment)
    merged.update(answers)
    return merged


def save_rating(
    session: Session,
    calibration: CalibrationSession,
    conversation_id: int,
    answers: Mapping[int, AnswerInput],
    *,
    by: User,
    overall_comment: str = "",
    submit: bool = False,
) -> CalibrationRating:
    """Save (and with ``submit`` score and submit) a rater's answers for one conversation."""
    return record_rating(
        session,
        calibration,
        conversation_id,
        answers,
        by=by,
        overall_comment=overall_comment,
        submit=submit,
    )[0]


def record_rating(
    session: Session,
    calibration: CalibrationSession,
    conversation_id: int,
    answers: Mapping[int, AnswerInput],
    *,
    by: User,
    overall_comment: str = "",
    submit: bool = False,
) -> tuple[CalibrationRating, bool]:
    """:func:`save_rating`, and whether this call created the rating (False when a concurrent
    first save created it: the answers are then saved onto that one)."""
    if rater_of(calibration, by) is None:
        raise CalibrationError("You are not a rater in this session.")
    if not calibration.is_blind:
        raise CalibrationError("The results have been revealed; ratings can no longer change.")
    if item_of(calibration, conversation_id) is None:
        raise CalibrationError("That conversation is not part of this session.")
    version = calibration.scorecard_version

    def change(rating: CalibrationRating) -> None:
        cleaned = validated_answers(version, merged_answers(rating, answers), complete=submit)
        store_answers(rating, version, cleaned, overall_comment, submit=submit)

    return save_rating_row(session, calibration, conversation_id, by, change)
