"""Calibration on the web: the sessions list, creating a session, rating blind, the benchmark,
the reveal and the discussion afterwards.

The blind rule: while a session is open, a rater sees only their own answers, and facilitators
see who has submitted (counts) on the session page; answers side by side, other raters' scores
and the benchmark (outside the facilitator's own benchmark page) appear only after the reveal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response

from qa_app.calibration import (
    labels,
    queries,
    results_views,  # noqa: F401  (its routes register on bp)
    services,
)
from qa_app.calibration.access import (
    CALIBRATION_READERS,
    FACILITATOR_ROLES,
    can_facilitate,
    rater_shown,
    session_for_viewer,
    shown_raters,
    visible_sessions_query,
)
from qa_app.calibration.blueprint import acting_user, bp
from qa_app.calibration.forms import (
    SAMPLED,
    BenchmarkForm,
    NoteForm,
    RatingForm,
    SessionForm,
    rater_choices,
)
from qa_app.calibration.models import (
    CalibrationItem,
    CalibrationNote,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.calibration.services import (
    RATER_ROLES,
    CalibrationAnswerError,
    CalibrationError,
    SessionInput,
)
from qa_app.conversations import browse
from qa_app.conversations.models import Conversation
from qa_app.db import get_session, utcnow
from qa_app.forms import EmptyForm, choices, required_data
from qa_app.org.access import role_required
from qa_app.pagination import page_args, paginate
from qa_app.reviews.answers import ordered_criteria
from qa_app.reviews.forms import ScoringForm, answer_choices, scoring_form
from qa_app.scorecards.models import Criterion, Scorecard, ScorecardVersion, VersionStatus

__all__ = ["bp"]

# Who takes part in a session's discussion: its facilitators and raters.
PARTICIPANT_ROLES = FACILITATOR_ROLES | RATER_ROLES
STATUS_LABELS = {
    SessionStatus.OPEN: "open: scoring blind",
    SessionStatus.REVEALED: "revealed: discussion",
    SessionStatus.CLOSED: "closed",
}


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "rater_label": lambda rater: labels.rater_label(current_user, rater),
        "rater_group": lambda rater: labels.rater_group(current_user, rater),
        "answer_choices": answer_choices,
        "SessionStatus": SessionStatus,
        "RatingStatus": RatingStatus,
        "SESSION_STATUS_LABELS": STATUS_LABELS,
    }


def _transcript(session: Session, conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "messages": browse.transcript_messages(session, conversation),
    }


def _item_or_404(calibration: CalibrationSession, conversation_id: int) -> CalibrationItem:
    return services.item_of(calibration, conversation_id) or abort(404)


def _stored_answers(rating: CalibrationRating | None) -> dict[int, tuple[str | None, str]]:
    answers = rating.answers if rating is not None else []
    return {answer.criterion_id: (answer.value, answer.comment) for answer in answers}


def _show_error(form: ScoringForm, error: CalibrationError) -> None:
    """The message above the form, and beside each criterion concerned."""
    if isinstance(error, CalibrationAnswerError):
        form.mark_missing(error.criterion_ids, "Answer this criterion.")
    form.form_errors.append(str(error))


# The list and creating a session ----------------------------------------------------------------


@bp.get("/")
@role_required(CALIBRATION_READERS)
def list_sessions() -> str:
    """List the calibration sessions I may see, the latest due first."""
    session = get_session()
    stmt = (
        visible_sessions_query(current_user)
        .options(
            joinedload(CalibrationSession.scorecard_version).joinedload(ScorecardVersion.scorecard)
        )
        .order_by(None)
        .order_by(CalibrationSession.due_at.desc(), CalibrationSession.id.desc())
    )
    page = paginate(session, stmt, *page_args())
    me = acting_user()
    counts = queries.session_counts(session, [calibration.id for calibration in page.items], me.id)
    return render_template(
        "calibration/list.html", page=page, counts=counts, may_create=can_facilitate(me)
    )


def _published_versions(session: Session) -> list[tuple[int, str]]:
    stmt = (
        select(ScorecardVersion.id, Scorecard.name, ScorecardVersion.number)
        .join(Scorecard, Scorecard.id == ScorecardVersion.scorecard_id)
        .where(Scorecard.is_active, ScorecardVersion.status == VersionStatus.PUBLISHED)
        .order_by(Scorecard.name, ScorecardVersion.number)
    )
    return [(row.id, f"{row.name} · version {row.number}") for row in session.execute(stmt)]


def _session_input(session: Session, form: SessionForm) -> SessionInput:
    """The form as the service takes it; sampling runs here (raises CalibrationError)."""
    if form.source.data == SAMPLED:
        wanted = set(form.rater_ids.data or [])
        raters = [rater for rater in services.eligible_raters(session) if rater.id in wanted]
        # SessionForm.validate() requires the size, the seed and the period when sampling.
        period = (form.period.data or "").strip()
        conversation_ids = services.sample_conversations(
            session,
            raters=raters,
            count=required_data(form.sample_size.data),
            seed=required_data(form.seed.data),
            period=period,
        )
        if not conversation_ids:
            raise CalibrationError(
                f"No conversation of {period} can be sampled for these raters:"
                " every candidate is reviewed, assigned, in a session, or out of their reach."
            )
    else:
        conversation_ids = form.picked_ids()
    return SessionInput(
        title=form.title.data or "",
        instructions=form.instructions.data or "",
        scorecard_version_id=form.scorecard_version_id.data,
        conversation_ids=conversation_ids,
        rater_ids=list(form.rater_ids.data or []),
        due_at=form.due_at(),
        tolerance=float(required_data(form.tolerance.data)),  # InputRequired
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required(FACILITATOR_ROLES)
def new_session() -> str | Response | tuple[str, int]:
    """Create a calibration session: scorecard version, conversations, raters, due date."""
    session = get_session()
    form = SessionForm()
    form.scorecard_version_id.choices = choices(_published_versions(session))
    form.rater_ids.choices = rater_choices(services.eligible_raters(session))
    if form.validate_on_submit():
        try:
            calibration = services.create_session(
                session, _session_input(session, form), by=acting_user()
            )
        except CalibrationError as error:
            session.rollback()
            form.form_errors.append(str(error))
        else:
            session.commit()
            flash(
                f"Session “{calibration.title}” created with {len(calibration.items)}"
                f" conversations and {len(calibration.raters)} raters.",
                "success",
            )
            return redirect(url_for("calibration.session_detail", session_id=calibration.id))
    html = render_template("calibration/new.html", form=form)
    return (html, 422) if request.method == "POST" else html


# The session page -------------------------------------------------------------------------------


def _note_form(calibration: CalibrationSession, criteria: list[Criterion]) -> NoteForm:
    form = NoteForm(prefix="note")
    form.set_choices(
        [
            (item.conversation_id, f"#{item.position + 1} · {item.conversation.external_id}")
            for item in calibration.items
        ],
        criteria,
    )
    return form


def _detail_page(
    session: Session, calibration: CalibrationSession, note_form: NoteForm | None = None
) -> str:
    me = acting_user()
    facilitating = can_facilitate(me, calibration)
    rater = services.rater_of(calibration, me)
    criteria = ordered_criteria(calibration.scorecard_version)
    context: dict[str, Any] = {
        "calibration": calibration,
        "facilitating": facilitating,
        "rater": rater,
        "criteria": criteria,
        "action_form": EmptyForm(),
        "now": utcnow(),
    }
    if rater is not None:
        context["my_ratings"] = queries.rating_statuses(session, calibration, me.id)
    if facilitating:
        context["progress"] = services.progress(session, calibration)
        context["refusal"] = services.reveal_refusal(session, calibration)
        context["benchmarked"] = queries.benchmarked_conversations(session, calibration)
    if (facilitating or rater is not None) and not calibration.is_blind:
        context["shown_raters"] = shown_raters(me, calibration)
        context["comparisons"] = queries.side_by_side(
            session, calibration, criteria, context["shown_raters"]
        )
        hidden = {r.user_id: r for r in calibration.raters if not rater_shown(me, r)}
        context["hidden_authors"] = hidden
        notes = services.notes_of(session, calibration)
        context["notes_by_conversation"] = _group_notes(notes)
        if calibration.status == SessionStatus.REVEALED:
            context["note_form"] = note_form or _note_form(calibration, criteria)
    return render_template("calibration/detail.html", **context)


def _group_notes(notes: list[CalibrationNote]) -> dict[int | None, list[CalibrationNote]]:
    grouped: dict[int | None, list[CalibrationNote]] = {}
    for note in notes:
        grouped.setdefault(note.conversation_id, []).append(note)
    return grouped


@bp.get("/<int:session_id>")
@role_required(CALIBRATION_READERS)
def session_detail(session_id: int) -> str:
    """Show a session: progress while blind; every rating side by side and the discussion after."""
    session = get_session()
    calibration = session_for_viewer(session, session_id, current_user, *queries.people_loaded())
    return _detail_page(session, calibration)


# Rating, blind ----------------------------------------------------------------------------------


def _save_rating(
    session: Session, calibration: CalibrationSession, conversation_id: int, form: ScoringForm
) -> bool:
    """Save the draft, then submit it if asked; False (with form errors) when that fails."""
    me = acting_user()
    answers, comment = form.answers(), form.overall_comment.data or ""
    try:
        services.save_rating(
            session, calibration, conversation_id, answers, by=me, overall_comment=comment
        )
        session.commit()  # the draft is kept even if submitting it fails below
        if form.submit.data:
            services.save_rating(
                session,
                calibration,
                conversation_id,
                answers,
                by=me,
                overall_comment=comment,
                submit=True,
            )
            session.commit()
    except CalibrationError as error:
        session.rollback()
        _show_error(form, error)
        return False
    return True


def _next_item(calibration: CalibrationSession, item: CalibrationItem) -> CalibrationItem | None:
    later = [other for other in calibration.items if other.position > item.position]
    return later[0] if later else None


@bp.route("/<int:session_id>/conversations/<int:conversation_id>/rate", methods=["GET", "POST"])
@role_required(RATER_ROLES)
def rate(session_id: int, conversation_id: int) -> str | Response | tuple[str, int]:
    """Score a conversation of a session on my own: the transcript beside the scorecard."""
    session = get_session()
    calibration = session_for_viewer(session, session_id, current_user)
    item = _item_or_404(calibration, conversation_id)
    me = acting_user()
    if services.rater_of(calibration, me) is None:
        abort(404)
    if request.method == "POST" and not calibration.is_blind:
        flash("The results have been revealed; ratings can no longer change.", "warning")
        return redirect(request.path)
    rating = services.rating_of(session, calibration, conversation_id, me)
    criteria = ordered_criteria(calibration.scorecard_version)
    form = scoring_form(criteria, RatingForm)
    if request.method == "GET":
        form.fill(_stored_answers(rating), rating.overall_comment if rating else "")
    if form.validate_on_submit() and _save_rating(session, calibration, conversation_id, form):
        following = _next_item(calibration, item)
        if form.submit.data:
            flash("Rating submitted. You may revise it until the results are revealed.", "success")
            if following is not None:
                return redirect(
                    url_for(
                        "calibration.rate",
                        session_id=calibration.id,
                        conversation_id=following.conversation_id,
                    )
                )
            return redirect(url_for("calibration.session_detail", session_id=calibration.id))
        flash("Draft saved.", "success")
        return redirect(request.path)
    html = render_template(
        "calibration/rate.html",
        calibration=calibration,
        item=item,
        rating=rating,
        form=form,
        criteria=criteria,
        answers=queries.answers_by_criterion(rating),
        following=_next_item(calibration, item),
        **_transcript(session, item.conversation),
    )
    return (html, 422) if form.errors or form.form_errors else html


# Facilitating ----------------------------------------------------------------------------------


@bp.route(
    "/<int:session_id>/conversations/<int:conversation_id>/benchmark", methods=["GET", "POST"]
)
@role_required(FACILITATOR_ROLES)
def benchmark(session_id: int, conversation_id: int) -> str | Response | tuple[str, int]:
    """Record the benchmark answers of a conversation of a session."""
    session = get_session()
    calibration = session_for_viewer(session, session_id, current_user)
    item = _item_or_404(calibration, conversation_id)
    rating = services.rating_of(session, calibration, conversation_id, None)
    criteria = ordered_criteria(calibration.scorecard_version)
    form = scoring_form(criteria, BenchmarkForm)
    if request.method == "GET":
        form.fill(_stored_answers(rating), rating.overall_comment if rating else "")
    if form.validate_on_submit():
        try:
            services.save_benchmark(
                session,
                calibration,
                conversation_id,
                form.answers(),
                by=acting_user(),
                overall_comment=form.overall_comment.data or "",
            )
        except CalibrationError as error:
            session.rollback()
            _show_error(form, error)
        else:
            session.commit()
            flash(f"Benchmark of conversation {item.conversation.external_id} saved.", "success")
            return redirect(url_for("calibration.session_detail", session_id=calibration.id))
    html = render_template(
        "calibration/benchmark.html",
        calibration=calibration,
        item=item,
        rating=rating,
        form=form,
        criteria=criteria,
        **_transcript(session, item.conversation),
    )
    return (html, 422) if form.errors or form.form_errors else html


def _facilitator_action(
    session_id: int, action: Callable[[Session, CalibrationSession], str | None], done: str
) -> Response:
    """Run a button-only step on a session, flash how it went, and go back to the session."""
    session = get_session()
    calibration = session_for_viewer(session, session_id, current_user)
    if EmptyForm().validate_on_submit():
        try:
            message = action(session, calibration) or done
        except CalibrationError as error:
            session.rollback()
            flash(str(error), "danger")
        else:
            session.commit()
            flash(message, "success")
    return redirect(url_for("calibration.session_detail", session_id=calibration.id))


@bp.post("/<int:session_id>/reveal")
@role_required(FACILITATOR_ROLES)
def reveal(session_id: int) -> Response:
    """End the blind phase: show the results, the benchmark and every rater's answers."""

    def step(session: Session, calibration: CalibrationSession) -> None:
        services.reveal(session, calibration, by=acting_user())

    return _facilitator_action(session_id, step, "Results revealed. The discussion is open.")


@bp.post("/<int:session_id>/consensus")
@role_required(FACILITATOR_ROLES)
def consensus(session_id: int) -> Response:
    """Make the raters' consensus the benchmark where there is one."""

    def step(session: Session, calibration: CalibrationSession) -> str:
        outcome = services.adopt_consensus(session, calibration, by=acting_user())
        message = f"Consensus adopted as the benchmark of {len(outcome.adopted)} conversations."
        if outcome.undecided:
            message += " No consensus (record these by hand): " + "; ".join(outcome.undecided)
        return message

    return _facilitator_action(session_id, step, "")


@bp.post("/<int:session_id>/close")
@role_required(FACILITATOR_ROLES)
def close(session_id: int) -> Response:
    """Close a revealed session: the discussion is over."""

    def step(session: Session, calibration: CalibrationSession) -> None:
        services.close(session, calibration, by=acting_user())

    return _facilitator_action(session_id, step, "Session closed.")


# Discussion -------------------------------------------------------------------------------------


@bp.post("/<int:session_id>/notes")
@role_required(PARTICIPANT_ROLES)
def add_note(session_id: int) -> Response | tuple[str, int]:
    """Add a discussion note, or (facilitators) a decision on a criterion."""
    session = get_session()
    calibration = session_for_viewer(session, session_id, current_user)
    detail_url = url_for("calibration.session_detail", session_id=calibration.id)
    if calibration.status != SessionStatus.REVEALED:
        flash("Notes are added after the reveal, until the session is closed.", "warning")
        return redirect(detail_url)
    form = _note_form(calibration, ordered_criteria(calibration.scorecard_version))
    if form.validate_on_submit():
        try:
            note = services.add_note(
                session,
                calibration,
                form.body.data or "",
                by=acting_user(),
                conversation_id=form.conversation_id.data,
                criterion_id=form.criterion_id.data,
                is_decision=bool(form.is_decision.data),
            )
        except CalibrationError as error:
            session.rollback()
            form.form_errors.append(str(error))
        else:
            session.commit()
            flash("Decision recorded." if note.is_decision else "Note added.", "success")
            return redirect(f"{detail_url}#note-{note.id}")
    return _detail_page(session, calibration, note_form=form), 422


@bp.post("/<int:session_id>/notes/<int:note_id>/apply")
@role_required(FACILITATOR_ROLES)
def apply_decision(session_id: int, note_id: int) -> Response:
    """Copy a decision into its criterion's guidance in the scorecard's next draft."""
    session = get_session()
    calibration = session_for_viewer(session, session_id, current_user)
    note = session.get(CalibrationNote, note_id)
    if note is None or note.session_id != calibration.id:
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            draft = services.apply_decision(session, calibration, note, by=acting_user())
        except CalibrationError as error:
            session.rollback()
            flash(str(error), "danger")
        else:
            session.commit()
            flash(
                f"Decision added to the guidance in draft version {draft.number} of"
                f" “{draft.scorecard.name}”. Publish the draft for it to take effect.",
                "success",
            )
    return redirect(url_for("calibration.session_detail", session_id=calibration.id))
