"""/api/v1/calibration/sessions: calibration sessions through the API, under the blind rule.

Visibility is the web UI's (qa_app/calibration/access.py). While a session is open (blind), a
rater gets only their own ratings and a facilitator only who has submitted how many; nobody gets
another rater's answers or score, nor the benchmark. After the reveal the session carries the
submitted ratings and the benchmark, and the results are readable, both with the individual
raters cut to those the caller may see (results.visible_to): facilitators see everyone, partner
users their own partner's raters, other raters themselves; group figures are for everyone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from flask import Response, jsonify, request, url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from qa_app.api.auth import api_roles, api_user
from qa_app.api.blueprint import bp
from qa_app.api.conversations import with_references
from qa_app.api.errors import ApiError
from qa_app.api.params import bool_arg, choice_arg, int_arg
from qa_app.api.review_bodies import Invalid, invalid_response, read_answers, review_body
from qa_app.api.serializers import conversation_detail, iso
from qa_app.auth.models import User
from qa_app.calibration import labels, queries, services
from qa_app.calibration import results as calibration_results
from qa_app.calibration.access import (
    CALIBRATION_READERS,
    can_facilitate,
    rater_shown,
    visible_sessions_query,
)
from qa_app.calibration.models import (
    CalibrationRater,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.calibration.stats import GroupDifference
from qa_app.conversations.browse import transcript_messages
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.pagination import MAX_PER_PAGE, paginate
from qa_app.reviews.answers import MAX_COMMENT_LENGTH, ordered_criteria
from qa_app.scorecards.models import Criterion, ScorecardVersion
from qa_app.scorecards.scoring import NA, CriterionKind

DEFAULT_PER_PAGE = 50
STATUSES = tuple(status.value for status in SessionStatus)
RATING_FIELDS = frozenset({"conversation_id", "answers", "comments", "overall_comment", "submit"})
NOT_YOURS = "There is no such calibration session, or it is not yours to see."


# Who sees whom ----------------------------------------------------------------------------------


def _shows_rater(user: User, facilitating: bool, rater: CalibrationRater) -> bool:
    """The rule of access.rater_shown (``facilitating`` implies it: facilitators are in-house)."""
    return facilitating or rater_shown(user, rater)


def _group(user: User, rater: CalibrationRater) -> dict[str, str]:
    """The rater's group, named by the one rule of calibration.labels."""
    if rater.partner_id is None:
        key = calibration_results.GROUP_IN_HOUSE
    else:
        key = labels.group_key(user, calibration_results.partner_group_key(rater.partner_id))
    return {"key": key, "label": labels.rater_group(user, rater)}


def _rater_ref(user: User, rater: CalibrationRater) -> dict[str, Any]:
    """Only for raters the caller may see (``_shows_rater``)."""
    return {"id": rater.user_id, "name": rater.user.name, "group": _group(user, rater)}


# JSON shapes ------------------------------------------------------------------------------------


def _typed(criterion: Criterion, value: str | None) -> str | int | None:
    if value is None or value == NA or criterion.kind == CriterionKind.YES_NO:
        return value
    return int(value) if value.isdigit() else value


def _criterion(criterion: Criterion) -> dict[str, Any]:
    return {
        "key": criterion.key,
        "title": criterion.title,
        "section": criterion.section.title,
        "kind": criterion.kind.value,
        "allow_na": criterion.allow_na,
        "scale_max": criterion.scale_max if criterion.kind == CriterionKind.SCALE else None,
        "scale_labels": list(criterion.scale_labels or []),
        "max_points": criterion.max_points if criterion.kind == CriterionKind.POINTS else None,
    }


def _rating(rating: CalibrationRating, criteria: Sequence[Criterion]) -> dict[str, Any]:
    """A rating's answers in scorecard order; unanswered criteria have the value null."""
    answers = {answer.criterion_id: answer for answer in rating.answers}
    rows = []
    for criterion in criteria:
        answer = answers.get(criterion.id)
        rows.append(
            {
                "criterion": criterion.key,
                "value": _typed(criterion, answer.value if answer else None),
                "comment": answer.comment if answer else "",
            }
        )
    return {
        "status": rating.status.value,
        "score": rating.score,
        "auto_failed": rating.auto_failed,
        "overall_comment": rating.overall_comment,
        "updated_at": iso(rating.updated_at),
        "submitted_at": iso(rating.submitted_at),
        "answers": rows,
    }


def _summary(
    calibration: CalibrationSession,
    user: User,
    counts: queries.SessionCounts,
) -> dict[str, Any]:
    """Expects scorecard_version.scorecard and facilitator loaded."""
    version = calibration.scorecard_version
    is_rater = calibration.id in counts.rating_in
    return {
        "id": calibration.id,
        "title": calibration.title,
        "status": calibration.status.value,
        "blind": calibration.is_blind,
        "scorecard": {
            "id": version.scorecard_id,
            "name": version.scorecard.name,
            "version": version.number,
        },
        "facilitator": {"id": calibration.facilitator.id, "name": calibration.facilitator.name},
        "due_at": iso(calibration.due_at),
        "created_at": iso(calibration.created_at),
        "revealed_at": iso(calibration.revealed_at),
        "closed_at": iso(calibration.closed_at),
        "conversation_count": counts.items.get(calibration.id, 0),
        "rater_count": counts.raters.get(calibration.id, 0),
        "you": {
            "facilitator": can_facilitate(user, calibration),
            "rater": is_rater,
            "submitted": counts.submitted.get(calibration.id, 0) if is_rater else None,
        },
        "url": url_for("api.get_calibration_session", session_id=calibration.id, _external=True),
        "results_url": url_for(
            "api.get_calibration_results", session_id=calibration.id, _external=True
        ),
    }


# Loading ----------------------------------------------------------------------------------------


def _loaded(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(
        joinedload(CalibrationSession.scorecard_version).joinedload(ScorecardVersion.scorecard),
        joinedload(CalibrationSession.facilitator),
    )


def _session_or_404(session: Session, session_id: int, user: User) -> CalibrationSession:
    stmt = _loaded(visible_sessions_query(user).where(CalibrationSession.id == session_id)).options(
        *queries.people_loaded()
    )
    calibration: CalibrationSession | None = session.scalars(stmt).unique().one_or_none()
    if calibration is None:
        raise ApiError(404, NOT_YOURS)
    return calibration


# Reading ----------------------------------------------------------------------------------------


@bp.get("/calibration/sessions")
@api_roles(CALIBRATION_READERS)
def list_calibration_sessions() -> Response:
    """List the calibration sessions the token's user may see, the latest due first."""
    session = get_session()
    user = api_user()
    page = int_arg("page", 1) or 1
    per_page = min(int_arg("per_page", DEFAULT_PER_PAGE) or DEFAULT_PER_PAGE, MAX_PER_PAGE)
    stmt = _loaded(visible_sessions_query(user)).order_by(
        CalibrationSession.due_at.desc(), CalibrationSession.id.desc()
    )
    status = choice_arg("status", STATUSES)
    if status is not None:
        stmt = stmt.where(CalibrationSession.status == SessionStatus(status))
    result = paginate(session, stmt, page, per_page)
    counts = queries.session_counts(
        session, [calibration.id for calibration in result.items], user.id
    )
    next_url = None
    if result.has_next:
        args: dict[str, Any] = {
            key: values for key, values in request.args.lists() if not key.startswith("_")
        }
        args["page"] = [str(page + 1)]
        next_url = url_for("api.list_calibration_sessions", **args, _external=True)
    return jsonify(
        {
            "items": [_summary(item, user, counts) for item in result.items],
            "page": page,
            "per_page": per_page,
            "total": result.total,
            "next": next_url,
        }
    )


def _ratings(
    session: Session, calibration: CalibrationSession, user: User
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


def _items(
    calibration: CalibrationSession,
    user: User,
    facilitating: bool,
    ratings: list[CalibrationRating],
    criteria: Sequence[Criterion],
) -> list[dict[str, Any]]:
    raters = {rater.user_id: rater for rater in calibration.raters}
    is_rater = user.id in raters
    rows = []
    for item in calibration.items:
        conversation = item.conversation
        mine = [r for r in ratings if r.conversation_id == item.conversation_id]
        row: dict[str, Any] = {
            "position": item.position,
            "conversation": {
                "id": conversation.id,
                "external_id": conversation.external_id,
                "channel": conversation.channel,
                "started_at": iso(conversation.started_at),
            },
        }
        if is_rater:
            own = next((r for r in mine if r.rater_id == user.id), None)
            row["yours"] = None if own is None else _rating(own, criteria)
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
            row["benchmark"] = None if benchmark is None else _rating(benchmark, criteria)
            row["ratings"] = [
                {"rater": _rater_ref(user, rater), **_rating(rating, criteria)}
                for rater, rating in submitted
                if _shows_rater(user, facilitating, rater)
            ]
            row["answer_counts"] = _answer_counts([r for _, r in submitted], criteria)
        rows.append(row)
    return rows


def _notes(
    session: Session, calibration: CalibrationSession, user: User, facilitating: bool
) -> list[dict[str, Any]]:
    """The discussion; a rater the caller may not see is named only by their group."""
    raters = {rater.user_id: rater for rater in calibration.raters}
    answer = []
    for note in services.notes_of(session, calibration):
        rater = raters.get(note.author_id)
        if rater is None or _shows_rater(user, facilitating, rater):
            author: dict[str, Any] = {"id": note.author.id, "name": note.author.name}
        else:
            author = {"id": None, "name": labels.rater_label(user, rater)}
        answer.append(
            {
                "id": note.id,
                "body": note.body,
                "author": author,
                "conversation_id": note.conversation_id,
                "criterion": note.criterion.key if note.criterion else None,
                "is_decision": note.is_decision,
                "created_at": iso(note.created_at),
                "applied_to_version_id": note.applied_to_version_id,
            }
        )
    return answer


def _detail(session: Session, calibration: CalibrationSession, user: User) -> dict[str, Any]:
    facilitating = can_facilitate(user, calibration)
    counts = queries.session_counts(session, [calibration.id], user.id)
    criteria = ordered_criteria(calibration.scorecard_version)
    ratings = _ratings(session, calibration, user)
    detail = {
        **_summary(calibration, user, counts),
        "instructions": calibration.instructions,
        "tolerance": calibration.tolerance,
        "criteria": [_criterion(criterion) for criterion in criteria],
        "raters": [
            _rater_ref(user, rater)
            for rater in calibration.raters
            if _shows_rater(user, facilitating, rater)
        ],
        "items": _items(calibration, user, facilitating, ratings, criteria),
    }
    if facilitating:
        detail["progress"] = [
            {
                "rater": _rater_ref(user, row.rater),
                "submitted": row.submitted,
                "total": row.total,
                "done": row.done,
            }
            for row in services.progress(session, calibration)
        ]
    if not calibration.is_blind:
        detail["notes"] = _notes(session, calibration, user, facilitating)
    return detail


@bp.get("/calibration/sessions/<int:session_id>")
@api_roles(CALIBRATION_READERS)
def get_calibration_session(session_id: int) -> Response:
    """One session: its conversations and, for the caller, what the blind rule lets them see."""
    session = get_session()
    user = api_user()
    return jsonify(_detail(session, _session_or_404(session, session_id, user), user))


@bp.get("/calibration/sessions/<int:session_id>/conversations/<int:conversation_id>")
@api_roles(CALIBRATION_READERS)
def get_calibration_conversation(session_id: int, conversation_id: int) -> Response:
    """A conversation of a session with its transcript, for the session's raters and facilitators.

    A partner rater may be asked to score an in-house conversation that the conversations API
    (partner-scoped) would not show them: the session is what lets them read it, as on the web
    rating page. The caller's own rating comes with it.
    """
    session = get_session()
    user = api_user()
    calibration = _session_or_404(session, session_id, user)
    item = services.item_of(calibration, conversation_id)
    facilitating = can_facilitate(user, calibration)
    if item is None or not (facilitating or services.rater_of(calibration, user) is not None):
        raise ApiError(404, "There is no such conversation in this session for you to rate.")
    conversation = session.scalars(
        with_references(select(Conversation).where(Conversation.id == conversation_id))
    ).one()
    criteria = ordered_criteria(calibration.scorecard_version)
    own = services.rating_of(session, calibration, conversation_id, user)
    return jsonify(
        {
            "session_id": calibration.id,
            "position": item.position,
            "conversation": conversation_detail(
                conversation, transcript_messages(session, conversation)
            ),
            "yours": None if own is None else _rating(own, criteria),
        }
    )


# Rating -----------------------------------------------------------------------------------------


def _check_shape(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    problems: list[tuple[str | None, str]] = [
        (field, "is not a field of a rating") for field in sorted(set(body) - RATING_FIELDS)
    ]
    conversation_id = body.get("conversation_id")
    if conversation_id is None:
        problems.append(("conversation_id", "is required"))
    elif isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
        problems.append(("conversation_id", "must be a whole number"))
    for field in ("answers", "comments"):
        if not isinstance(body.get(field, {}), dict):
            problems.append((field, "must be an object keyed by criterion key"))
    overall = body.get("overall_comment", "")
    if not isinstance(overall, str) or len(overall) > MAX_COMMENT_LENGTH:
        problems.append(
            ("overall_comment", f"must be text of at most {MAX_COMMENT_LENGTH} characters")
        )
    if not isinstance(body.get("submit", False), bool):
        problems.append(("submit", "must be true or false"))
    return problems


def _save(
    session: Session, calibration: CalibrationSession, user: User, body: dict[str, Any]
) -> tuple[CalibrationRating, bool]:
    """Save (and submit if asked) the caller's rating; (rating, created). Raises Invalid.

    ``created`` is False for the second of two simultaneous first saves: it saved onto the
    rating the first one created (200, not 201).
    """
    conversation_id = body["conversation_id"]
    if services.item_of(calibration, conversation_id) is None:
        raise Invalid([("conversation_id", "is not a conversation of this session")])
    version = calibration.scorecard_version
    answers = read_answers(version, body)
    try:
        return services.record_rating(
            session,
            calibration,
            conversation_id,
            answers,
            by=user,
            overall_comment=body.get("overall_comment") or "",
            submit=body.get("submit", False),
        )
    except services.CalibrationAnswerError as error:
        keys = {criterion.id: criterion.key for criterion in version.criteria}
        reason = "is required to submit" if str(error).startswith("Not answered") else str(error)
        raise Invalid([(f"answers.{keys[i]}", reason) for i in error.criterion_ids]) from None
    except services.CalibrationError as error:
        raise Invalid([(None, str(error))]) from None


@bp.post("/calibration/sessions/<int:session_id>/ratings")
@api_roles(services.RATER_ROLES)
def rate_calibration_conversation(session_id: int) -> tuple[Response, int]:
    """Save the caller's answers for one conversation of a session, and submit them if asked."""
    session = get_session()
    user = api_user()
    calibration = _session_or_404(session, session_id, user)
    if services.rater_of(calibration, user) is None:
        raise ApiError(403, "You are not a rater in this session.")
    if not calibration.is_blind:
        raise ApiError(409, "The results have been revealed; ratings can no longer change.")
    body = review_body("rating")
    problems = _check_shape(body)
    if problems:
        return invalid_response(problems, "rating")
    try:
        rating, created = _save(session, calibration, user, body)
    except Invalid as invalid:
        session.rollback()
        return invalid_response(invalid.problems, "rating")
    session.commit()
    criteria = ordered_criteria(calibration.scorecard_version)
    stored = services.rating_of(session, calibration, rating.conversation_id, user)
    assert stored is not None  # just saved
    response = jsonify(
        {
            "session_id": calibration.id,
            "conversation_id": stored.conversation_id,
            **_rating(stored, criteria),
        }
    )
    response.headers["Location"] = url_for(
        "api.get_calibration_session", session_id=calibration.id, _external=True
    )
    return response, 201 if created else 200


# Results ----------------------------------------------------------------------------------------


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def _agreement(agreement: calibration_results.Agreement) -> dict[str, Any]:
    return {
        "alpha": _num(agreement.alpha),
        "ci": None if agreement.ci is None else [float(bound) for bound in agreement.ci],
        "reading": agreement.reading,
        "units": agreement.units,
        "ratings": agreement.ratings,
    }


def _difference(difference: GroupDifference | None) -> dict[str, Any] | None:
    if difference is None:
        return None
    interval = None
    if difference.ci_low is not None and difference.ci_high is not None:
        interval = [float(difference.ci_low), float(difference.ci_high)]
    return {
        "value": _num(difference.difference),
        "ci": interval,
        "n_group": difference.n_group,
        "n_reference": difference.n_reference,
    }


def _group_result(group: calibration_results.GroupResult) -> dict[str, Any]:
    return {
        "key": group.key,
        "label": group.label,
        "partner_id": group.partner_id,
        "raters": group.raters,
        "agreement": _agreement(group.agreement),
        "mean_absolute_deviation": _num(group.mean_absolute_deviation),
        "signed_bias": _num(group.signed_bias),
        "share_within_tolerance": _num(group.share_within_tolerance),
        "match_rate": _num(group.match_rate),
        "difference_to_in_house": _difference(group.difference),
    }


def _results(results: calibration_results.SessionResults) -> dict[str, Any]:
    heatmap = results.heatmap
    return {
        "session_id": results.session_id,
        "conversations": results.conversations,
        "tolerance": results.tolerance,
        "has_benchmark": results.has_benchmark,
        "overall": _agreement(results.overall),
        "criteria": [
            {
                "criterion": row.key,
                "title": row.title,
                "kind": row.kind.value,
                "level": row.level,
                "agreement": _agreement(row.agreement),
                "percent_agreement": _num(row.percent_agreement),
                "ac1": _num(row.ac1),
                "one_answer_dominates": row.one_answer_dominates,
                "distribution": [
                    {"value": c.value, "label": c.label, "count": c.count, "share": c.share}
                    for c in row.distribution
                ],
            }
            for row in results.criteria
        ],
        "raters": [
            {
                "rater": {
                    "id": rater.user_id,
                    "name": rater.name,
                    "group": {"key": rater.group_key, "label": rater.group_label},
                },
                "submitted": rater.submitted,
                "compared": rater.n,
                "mean_absolute_deviation": _num(rater.mean_absolute_deviation),
                "signed_bias": _num(rater.signed_bias),
                "share_within_tolerance": _num(rater.share_within_tolerance),
                "match_rate": _num(rater.match_rate),
                "bias": rater.bias_label,
            }
            for rater in results.raters
        ],
        "all_raters": _group_result(results.all_raters),
        "groups": [_group_result(group) for group in results.groups],
        "divergence": {
            "measure": results.divergence_measure,
            "rows": [
                {
                    "criterion": row.key,
                    "title": row.title,
                    "gap": float(row.gap),
                    "figures": [
                        {"group": f.group_key, "label": f.label, "value": _num(f.value)}
                        for f in row.figures
                    ],
                }
                for row in results.divergence
            ],
        },
        "heatmap": {
            "reference": heatmap.reference,
            "raters": [
                {"name": column.name, "group": column.group_label} for column in heatmap.columns
            ],
            "rows": [
                {
                    "criterion": row.key,
                    "title": row.title,
                    "cells": [
                        {"share_differing": _num(cell.share), "compared": cell.compared}
                        for cell in row.cells
                    ],
                }
                for row in heatmap.rows
            ],
        },
    }


@bp.get("/calibration/sessions/<int:session_id>/results")
@api_roles(CALIBRATION_READERS)
def get_calibration_results(session_id: int) -> Response:
    """A revealed session's results, cut to the raters the caller may see; 409/404 while blind."""
    session = get_session()
    user = api_user()
    calibration = _session_or_404(session, session_id, user)
    facilitating = can_facilitate(user, calibration)
    if calibration.is_blind:
        if facilitating:
            raise ApiError(409, "The results appear after the reveal.")
        raise ApiError(404, "There are no results before the reveal.")
    n_boot = 1000 if bool_arg("intervals", default=True) else 0
    computed = calibration_results.compute_results(session, calibration, n_boot=n_boot)
    return jsonify(_results(labels.results_for(user, computed)))
