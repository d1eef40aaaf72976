"""The session answers of the calibration API, under the blind rule.

While a session is open (blind), a rater gets only their own ratings and a facilitator only who
has submitted how many; nobody gets another rater's answers or score, nor the benchmark. After
the reveal the session carries the submitted ratings and the benchmark, with the individual
raters cut to those the caller may see (results.visible_to): facilitators see everyone, partner
users their own partner's raters, other raters themselves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from qa_app.api.models import PersonRef
from qa_app.auth.models import User
from qa_app.calibration import labels, queries, services
from qa_app.calibration import results as calibration_results
from qa_app.calibration.access import can_facilitate, rater_shown
from qa_app.calibration.api_models import (
    CalibrationCriterion,
    CalibrationSession,
    CalibrationSessionDetail,
    Note,
    NoteAuthor,
    RaterGroup,
    RaterProgress,
    RaterRating,
    RaterRef,
    Rating,
    RatingAnswer,
    SessionConversation,
    SessionItem,
    SessionScorecard,
    You,
)
from qa_app.calibration.models import (
    CalibrationRater,
    CalibrationRating,
    RatingStatus,
)
from qa_app.calibration.models import (
    CalibrationSession as SessionRow,
)
from qa_app.reviews.answers import ordered_criteria
from qa_app.scorecards.models import Criterion
from qa_app.scorecards.scoring import NA, CriterionKind

# Who sees whom ----------------------------------------------------------------------------------


def _shows_rater(user: User, facilitating: bool, rater: CalibrationRater) -> bool:
    """The rule of access.rater_shown (``facilitating`` implies it: facilitators are in-house)."""
    return facilitating or rater_shown(user, rater)


def _group(user: User, rater: CalibrationRater) -> RaterGroup:
    """The rater's group, named by the one rule of calibration.labels."""
    if rater.partner_id is None:
        key = calibration_results.GROUP_IN_HOUSE
    else:
        key = labels.group_key(user, calibration_results.partner_group_key(rater.partner_id))
    return RaterGroup(key=key, label=labels.rater_group(user, rater))


def _rater_ref(user: User, rater: CalibrationRater) -> RaterRef:
    """Only for raters the caller may see (``_shows_rater``)."""
    return RaterRef(id=rater.user_id, name=rater.user.name, group=_group(user, rater))


# Ratings ----------------------------------------------------------------------------------------


def _typed(criterion: Criterion, value: str | None) -> str | int | None:
    if value is None or value == NA or criterion.kind == CriterionKind.YES_NO:
        return value
    return int(value) if value.isdigit() else value


def _criterion(criterion: Criterion) -> CalibrationCriterion:
    return CalibrationCriterion(
        key=criterion.key,
        title=criterion.title,
        section=criterion.section.title,
        kind=criterion.kind,
        allow_na=criterion.allow_na,
        scale_max=criterion.scale_max if criterion.kind == CriterionKind.SCALE else None,
        scale_labels=list(criterion.scale_labels or []),
        max_points=criterion.max_points if criterion.kind == CriterionKind.POINTS else None,
    )


def rating_fields(rating: CalibrationRating, criteria: Sequence[Criterion]) -> Rating:
    """A rating's answers in scorecard order; unanswered criteria have the value null."""
    answers = {answer.criterion_id: answer for answer in rating.answers}
    rows = []
    for criterion in criteria:
        answer = answers.get(criterion.id)
        rows.append(
            RatingAnswer(
                criterion=criterion.key,
                value=_typed(criterion, answer.value if answer else None),
                comment=answer.comment if answer else "",
            )
        )
    return Rating(
        status=rating.status,
        score=rating.score,
        auto_failed=rating.auto_failed,
        overall_comment=rating.overall_comment,
        updated_at=rating.updated_at,
        submitted_at=rating.submitted_at,
        answers=rows,
    )


def _visible_ratings(
    session: Session, calibration: SessionRow, user: User
) -> list[CalibrationRating]:
    """What the caller may read of the ratings: their own while blind; after the reveal every
    submitted rating and the benchmark (the caller filters raters)."""
    stmt = (
        select(CalibrationRating)
        .where(CalibrationRating.session_id == calibration.id)
        .options(selectinload(CalibrationRating.answers))
    )
    if calibration.is_blind:
        stmt = stmt.where(CalibrationRating.rater_id == user.id)
    else:
        stmt = stmt.where(
            (CalibrationRating.rater_id == user.id)
            | (CalibrationRating.status == RatingStatus.SUBMITTED)
        )
    return list(session.scalars(stmt))


def _answer_counts(
    ratings: Iterable[CalibrationRating], criteria: Sequence[Criterion]
) -> dict[str, dict[str, int]]:
    """How often each answer was given per criterion, over every submitted rating: anonymous."""
    keys = {criterion.id: criterion.key for criterion in criteria}
    counts: dict[str, Counter[str]] = {criterion.key: Counter() for criterion in criteria}
    for rating in ratings:
        for answer in rating.answers:
            if answer.value is not None and answer.criterion_id in keys:
                counts[keys[answer.criterion_id]][answer.value] += 1
    return {key: dict(sorted(counter.items())) for key, counter in counts.items()}


# Sessions ---------------------------------------------------------------------------------------


def session_summary(
    calibration: SessionRow, user: User, counts: queries.SessionCounts
) -> CalibrationSession:
    """Expects scorecard_version.scorecard and facilitator loaded."""
    return CalibrationSession(**_summary_fields(calibration, user, counts))


def _summary_fields(
    calibration: SessionRow, user: User, counts: queries.SessionCounts
) -> dict[str, Any]:
    version = calibration.scorecard_version
    is_rater = calibration.id in counts.rating_in
    return {
        "id": calibration.id,
        "title": calibration.title,
        "status": calibration.status,
        "blind": calibration.is_blind,
        "scorecard": SessionScorecard(
            id=version.scorecard_id, name=version.scorecard.name, version=version.number
        ),
        "facilitator": PersonRef(id=calibration.facilitator.id, name=calibration.facilitator.name),
        "due_at": calibration.due_at,
        "created_at": calibration.created_at,
        "revealed_at": calibration.revealed_at,
        "closed_at": calibration.closed_at,
        "conversation_count": counts.items.get(calibration.id, 0),
        "rater_count": counts.raters.get(calibration.id, 0),
        "you": You(
            facilitator=can_facilitate(user, calibration),
            rater=is_rater,
            submitted=counts.submitted.get(calibration.id, 0) if is_rater else None,
        ),
        "url": url_for("api.get_calibration_session", session_id=calibration.id, _external=True),
        "results_url": url_for(
            "api.get_calibration_results", session_id=calibration.id, _external=True
        ),
    }


def _items(
    calibration: SessionRow,
    user: User,
    facilitating: bool,
    ratings: list[CalibrationRating],
    criteria: Sequence[Criterion],
) -> list[SessionItem]:
    raters = {rater.user_id: rater for rater in calibration.raters}
    is_rater = user.id in raters
    rows = []
    for item in calibration.items:
        conversation = item.conversation
        mine = [r for r in ratings if r.conversation_id == item.conversation_id]
        row = SessionItem(
            position=item.position,
            conversation=SessionConversation(
                id=conversation.id,
                external_id=conversation.external_id,
                channel=conversation.channel,
                started_at=conversation.started_at,
            ),
        )
        if is_rater:
            own = next((r for r in mine if r.rater_id == user.id), None)
            row.yours = None if own is None else rating_fields(own, criteria)
        if not calibration.is_blind:
            submitted = [
                (raters[r.rater_id], r)
                for r in mine
                if r.rater_id is not None
                and r.rater_id in raters
                and r.status == RatingStatus.SUBMITTED
            ]
            submitted.sort(key=lambda pair: pair[0].id)
            benchmark = next((r for r in mine if r.is_benchmark), None)
            row.benchmark = None if benchmark is None else rating_fields(benchmark, criteria)
            row.ratings = [
                RaterRating(rater=_rater_ref(user, rater), **dict(rating_fields(rating, criteria)))
                for rater, rating in submitted
                if _shows_rater(user, facilitating, rater)
            ]
            row.answer_counts = _answer_counts([r for _, r in submitted], criteria)
        rows.append(row)
    return rows


def _notes(session: Session, calibration: SessionRow, user: User, facilitating: bool) -> list[Note]:
    """The discussion; a rater the caller may not see is named only by their group."""
    raters = {rater.user_id: rater for rater in calibration.raters}
    answer = []
    for note in services.notes_of(session, calibration):
        rater = raters.get(note.author_id)
        if rater is None or _shows_rater(user, facilitating, rater):
            author = NoteAuthor(id=note.author.id, name=note.author.name)
        else:
            author = NoteAuthor(id=None, name=labels.rater_label(user, rater))
        answer.append(
            Note(
                id=note.id,
                body=note.body,
                author=author,
                conversation_id=note.conversation_id,
                criterion=note.criterion.key if note.criterion else None,
                is_decision=note.is_decision,
                created_at=note.created_at,
                applied_to_version_id=note.applied_to_version_id,
            )
        )
    return answer


def session_detail(
    session: Session, calibration: SessionRow, user: User
) -> CalibrationSessionDetail:
    facilitating = can_facilitate(user, calibration)
    counts = queries.session_counts(session, [calibration.id], user.id)
    criteria = ordered_criteria(calibration.scorecard_version)
    ratings = _visible_ratings(session, calibration, user)
    detail = CalibrationSessionDetail(
        **_summary_fields(calibration, user, counts),
        instructions=calibration.instructions,
        tolerance=calibration.tolerance,
        criteria=[_criterion(criterion) for criterion in criteria],
        raters=[
            _rater_ref(user, rater)
            for rater in calibration.raters
            if _shows_rater(user, facilitating, rater)
        ],
        items=_items(calibration, user, facilitating, ratings, criteria),
    )
    if facilitating:
        detail.progress = [
            RaterProgress(
                rater=_rater_ref(user, row.rater),
                submitted=row.submitted,
                total=row.total,
                done=row.done,
            )
            for row in services.progress(session, calibration)
        ]
    if not calibration.is_blind:
        detail.notes = _notes(session, calibration, user, facilitating)
    return detail
