"""/api/v1/calibration/sessions: calibration sessions through the API, under the blind rule.

Visibility is the web UI's (qa_app/calibration/access.py); what a session shows to whom is in
api_sessions.py. The results are readable after the reveal, cut to the raters the caller may
see; group figures are for everyone.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from qa_app.api.auth import api_user
from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.models import next_page_url
from qa_app.auth.models import User
from qa_app.calibration import labels, queries, services
from qa_app.calibration import results as calibration_results
from qa_app.calibration.access import CALIBRATION_READERS, can_facilitate, visible_sessions_query
from qa_app.calibration.api_models import (
    CalibrationConversation,
    CalibrationSessionDetail,
    CalibrationSessionPage,
    RatingInput,
    ResultsQuery,
    SavedRating,
    SessionsQuery,
)
from qa_app.calibration.api_results import CalibrationResults, results_answer
from qa_app.calibration.api_sessions import rating_fields, session_detail, session_summary
from qa_app.calibration.errors import CalibrationMissingAnswers
from qa_app.calibration.models import CalibrationRating, CalibrationSession
from qa_app.conversations.api import with_references
from qa_app.conversations.api_models import conversation_detail
from qa_app.conversations.browse import transcript_messages
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.pagination import paginate
from qa_app.reviews.answers import ordered_criteria
from qa_app.reviews.api_answers import read_answers
from qa_app.scorecards.models import ScorecardVersion
from qa_app.service_errors import Conflict, Forbidden, Invalid, NotFound

NOT_YOURS = "There is no such calibration session, or it is not yours to see."
TAG = "calibration"


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
        raise NotFound(NOT_YOURS)
    return calibration


# Reading ----------------------------------------------------------------------------------------


@bp.get("/calibration/sessions")
@endpoint(
    CALIBRATION_READERS,
    operation_id="listCalibrationSessions",
    tag=TAG,
    answers={200: CalibrationSessionPage},
    errors=[403],
)
def list_calibration_sessions(query: SessionsQuery) -> CalibrationSessionPage:
    """Calibration sessions the user may see, latest due first."""
    session = get_session()
    user = api_user()
    stmt = _loaded(visible_sessions_query(user)).order_by(
        CalibrationSession.due_at.desc(), CalibrationSession.id.desc()
    )
    if query.status is not None:
        stmt = stmt.where(CalibrationSession.status == query.status)
    result = paginate(session, stmt, query.page, query.per_page)
    counts = queries.session_counts(session, [item.id for item in result.items], user.id)
    return CalibrationSessionPage(
        items=[session_summary(item, user, counts) for item in result.items],
        page=query.page,
        per_page=query.per_page,
        total=result.total,
        next=next_page_url("api.list_calibration_sessions", query.page, result.has_next),
    )


@bp.get("/calibration/sessions/<int:session_id>")
@endpoint(
    CALIBRATION_READERS,
    operation_id="getCalibrationSession",
    tag=TAG,
    answers={200: CalibrationSessionDetail},
    errors=[403, 404],
    path_descriptions={"session_id": "The calibration session's id."},
)
def get_calibration_session(session_id: int) -> CalibrationSessionDetail:
    """One session, with what the blind rule lets the caller see."""
    session = get_session()
    user = api_user()
    return session_detail(session, _session_or_404(session, session_id, user), user)


@bp.get("/calibration/sessions/<int:session_id>/conversations/<int:conversation_id>")
@endpoint(
    CALIBRATION_READERS,
    operation_id="getCalibrationConversation",
    tag=TAG,
    answers={200: CalibrationConversation},
    errors=[403, 404],
    path_descriptions={"session_id": "The calibration session's id."},
)
def get_calibration_conversation(session_id: int, conversation_id: int) -> CalibrationConversation:
    """A conversation of the session to rate, with the caller's rating.

    For the session's raters and facilitators. A partner rater may be asked to score an
    in-house conversation that the conversations API (partner-scoped) would not show them: the
    session is what lets them read it, as on the web rating page.
    """
    session = get_session()
    user = api_user()
    calibration = _session_or_404(session, session_id, user)
    item = services.item_of(calibration, conversation_id)
    facilitating = can_facilitate(user, calibration)
    if item is None or not (facilitating or services.rater_of(calibration, user) is not None):
        raise NotFound("There is no such conversation in this session for you to rate.")
    conversation = session.scalars(
        with_references(select(Conversation).where(Conversation.id == conversation_id))
    ).one()
    criteria = ordered_criteria(calibration.scorecard_version)
    own = services.rating_of(session, calibration, conversation_id, user)
    return CalibrationConversation(
        session_id=calibration.id,
        position=item.position,
        conversation=conversation_detail(conversation, transcript_messages(session, conversation)),
        yours=None if own is None else rating_fields(own, criteria),
    )


# Rating -----------------------------------------------------------------------------------------


def _save(
    session: Session, calibration: CalibrationSession, user: User, body: RatingInput
) -> tuple[CalibrationRating, bool]:
    """Save (and submit if asked) the caller's rating; (rating, created). Raises Invalid.

    ``created`` is False for the second of two simultaneous first saves: it saved onto the
    rating the first one created (200, not 201).
    """
    if services.item_of(calibration, body.conversation_id) is None:
        raise Invalid("is not a conversation of this session", "conversation_id")
    version = calibration.scorecard_version
    answers = read_answers(version, body.answers, body.comments)
    try:
        return services.record_rating(
            session,
            calibration,
            body.conversation_id,
            answers,
            by=user,
            overall_comment=body.overall_comment,
            submit=body.submit,
        )
    except services.CalibrationAnswerError as error:
        keys = {criterion.id: criterion.key for criterion in version.criteria}
        missing = isinstance(error, CalibrationMissingAnswers)
        reason = "is required to submit" if missing else error.message
        raise Invalid.of([(f"answers.{keys[i]}", reason) for i in error.criterion_ids]) from None


SESSION_URL = {
    "Location": {
        "description": "The session's URL.",
        "schema": {"type": "string", "format": "uri"},
    }
}


@bp.post("/calibration/sessions/<int:session_id>/ratings")
@endpoint(
    services.RATER_ROLES,
    operation_id="rateCalibrationConversation",
    tag=TAG,
    answers={
        200: (SavedRating, "The rating was updated."),
        201: (SavedRating, "The rating was created."),
    },
    errors=[403, 404, 409],
    extra={"responses": {"200": {"headers": SESSION_URL}, "201": {"headers": SESSION_URL}}},
    path_descriptions={"session_id": "The calibration session's id."},
)
def rate_calibration_conversation(
    session_id: int, json: RatingInput
) -> tuple[SavedRating, int, dict[str, str]]:
    """Save (and submit) the caller's rating of one conversation of the session."""
    session = get_session()
    user = api_user()
    calibration = _session_or_404(session, session_id, user)
    if services.rater_of(calibration, user) is None:
        raise Forbidden("You are not a rater in this session.")
    if not calibration.is_blind:
        raise Conflict("The results have been revealed; ratings can no longer change.")
    rating, created = _save(session, calibration, user, json)
    session.commit()
    criteria = ordered_criteria(calibration.scorecard_version)
    stored = services.rating_of(session, calibration, rating.conversation_id, user)
    assert stored is not None  # just saved
    saved = SavedRating(
        session_id=calibration.id,
        conversation_id=stored.conversation_id,
        **dict(rating_fields(stored, criteria)),
    )
    location = url_for("api.get_calibration_session", session_id=calibration.id, _external=True)
    return saved, 201 if created else 200, {"Location": location}


# Results ----------------------------------------------------------------------------------------


@bp.get("/calibration/sessions/<int:session_id>/results")
@endpoint(
    CALIBRATION_READERS,
    operation_id="getCalibrationResults",
    tag=TAG,
    answers={200: CalibrationResults},
    errors=[403, 404, 409],
    path_descriptions={"session_id": "The calibration session's id."},
)
def get_calibration_results(session_id: int, query: ResultsQuery) -> CalibrationResults:
    """A revealed session's results.

    Cut to the raters the caller may see; before the reveal 409 for facilitators, 404 for
    everyone else.
    """
    session = get_session()
    user = api_user()
    calibration = _session_or_404(session, session_id, user)
    if calibration.is_blind:
        if can_facilitate(user, calibration):
            raise Conflict("The results appear after the reveal.")
        raise NotFound("There are no results before the reveal.")
    n_boot = 1000 if query.intervals else 0
    computed = calibration_results.compute_results(session, calibration, n_boot=n_boot)
    return results_answer(labels.results_for(user, computed))
