"""Reviews on the web: the queue, scoring, the review page, acknowledgement and disputes."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload
from werkzeug.wrappers import Response

from qa_app.conversations import browse
from qa_app.conversations.models import Conversation
from qa_app.db import get_session, utcnow
from qa_app.forms import EmptyForm, choices
from qa_app.org.access import role_required
from qa_app.org.roles import Role
from qa_app.org.scope import get_scoped_or_404
from qa_app.pagination import page_args, paginate
from qa_app.reviews import (
    queries,
    report_views,  # noqa: F401  (its routes register on bp)
    services,
)
from qa_app.reviews.answers import MissingAnswers, ReviewAnswerError, ordered_criteria
from qa_app.reviews.blueprint import REVIEW_READERS, acting_user, bp
from qa_app.reviews.forms import (
    DisputeForm,
    RescoreForm,
    ScoringForm,
    StartReviewForm,
    UpholdForm,
    scoring_form,
)
from qa_app.reviews.models import Dispute, DisputeOutcome, Review, ReviewEvent, ReviewStatus
from qa_app.reviews.services import RESOLVER_ROLES, REVIEWER_ROLES, ReviewError
from qa_app.sampling.models import ReviewAssignment
from qa_app.scorecards.scoring import AnswerError
from qa_app.scorecards.services import published_version, scorecard_for_conversation

__all__ = ["bp"]


def _visible_or_404(session: Session, review_id: int) -> Review:
    return queries.get_visible(session, review_id, current_user) or abort(404)


def _transcript(session: Session, conversation: Conversation) -> dict[str, Any]:
    return {
        "conversation": conversation,
        "messages": browse.transcript_messages(session, conversation),
    }


# The queue and starting a review ----------------------------------------------------------------


@bp.get("/queue")
@role_required(REVIEWER_ROLES)
def my_queue() -> str:
    """List my open and in-progress assignments (or the unassigned ones), soonest due first."""
    session = get_session()
    unassigned = request.args.get("show") == "unassigned"
    stmt = queries.queue(current_user, unassigned=unassigned).options(*queries.queue_loading())
    page = paginate(session, stmt, *page_args())
    reviews = queries.reviews_of_assignments(session, [item.id for item in page.items])
    return render_template(
        "reviews/queue.html",
        page=page,
        reviews=reviews,
        unassigned=unassigned,
        now=utcnow(),
        action_form=EmptyForm(),
    )


@bp.post("/assignments/<int:assignment_id>/start")
@role_required(REVIEWER_ROLES)
def start_assignment(assignment_id: int) -> Response:
    """Start (or continue) reviewing an assignment; an unassigned one becomes mine."""
    session = get_session()
    assignment = get_scoped_or_404(session, ReviewAssignment, assignment_id, current_user)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        review = services.start_review(
            session, assignment.conversation, acting_user(), assignment=assignment
        )
    except ReviewError as error:
        session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("reviews.my_queue"))
    session.commit()
    return redirect(url_for("reviews.score", review_id=review.id))


@bp.route("/conversations/<int:conversation_id>/new", methods=["GET", "POST"])
@role_required(REVIEWER_ROLES)
def start_conversation(conversation_id: int) -> str | Response:
    """Choose a scorecard and start reviewing a conversation outside any assignment."""
    session = get_session()
    conversation = get_scoped_or_404(session, Conversation, conversation_id, current_user)
    draft = services.draft_of(session, acting_user(), conversation.id)
    if draft is not None:
        return redirect(url_for("reviews.score", review_id=draft.id))
    form = StartReviewForm()
    form.scorecard_id.choices = choices(queries.published_scorecards(session))
    if request.method == "GET":
        suggested = scorecard_for_conversation(session, conversation)
        form.scorecard_id.data = suggested.scorecard_id if suggested is not None else None
    if form.validate_on_submit():
        version = published_version(session, form.scorecard_id.data)
        try:
            review = services.start_review(session, conversation, acting_user(), version=version)
        except ReviewError as error:
            session.rollback()
            form.scorecard_id.errors = [str(error)]
        else:
            session.commit()
            return redirect(url_for("reviews.score", review_id=review.id))
    return render_template("reviews/new.html", form=form, conversation=conversation)


# Scoring ---------------------------------------------------------------------------------------


def _stored_answers(review: Review) -> dict[int, tuple[str | None, str]]:
    return {answer.criterion_id: (answer.value, answer.comment) for answer in review.answers}


def _show_answer_error(form: ScoringForm, error: AnswerError) -> None:
    """The message above the form, and beside each criterion concerned."""
    if isinstance(error, ReviewAnswerError):
        beside = "Answer this criterion." if isinstance(error, MissingAnswers) else str(error)
        form.mark_missing(error.criterion_ids, beside)
    form.form_errors.append(str(error))


@bp.route("/<int:review_id>/edit", methods=["GET", "POST"])
@role_required(REVIEWER_ROLES)
def score(review_id: int) -> str | Response | tuple[str, int]:
    """Score a conversation: the transcript beside the scorecard; save a draft or submit it."""
    session = get_session()
    review = _visible_or_404(session, review_id)
    if review.reviewer_id != current_user.id or review.status != ReviewStatus.DRAFT:
        return redirect(url_for("reviews.detail", review_id=review.id))
    criteria = ordered_criteria(review.scorecard_version)
    form = scoring_form(criteria)
    if request.method == "GET":
        form.fill(_stored_answers(review), review.overall_comment)
    if form.validate_on_submit() and _save(session, review, form):
        if form.submit.data:
            flash(f"Review submitted: score {_score_text(review.score)}.", "success")
            return redirect(url_for("reviews.detail", review_id=review.id))
        flash("Draft saved.", "success")
        return redirect(url_for("reviews.score", review_id=review.id))
    status = 422 if form.errors or form.form_errors else 200
    html = render_template(
        "reviews/score.html",
        review=review,
        form=form,
        criteria=criteria,
        **_transcript(session, review.conversation),
    )
    return html, status


def _save(session: Session, review: Review, form: ScoringForm) -> bool:
    """Save the draft, then submit it if asked; False (with form errors) when that fails."""
    try:
        answers, comment = form.answers(), form.overall_comment.data
        services.save_draft(session, review, answers, comment, by=acting_user())
        session.commit()  # the draft is kept even if submitting it fails below
        if form.submit.data:
            services.submit_review(session, review, by=acting_user())
            session.commit()
    except AnswerError as error:
        session.rollback()
        _show_answer_error(form, error)
    except ReviewError as error:
        session.rollback()
        form.form_errors.append(str(error))
    else:
        return True
    return False


def _score_text(score: float | None) -> str:
    return "none (every criterion N/A)" if score is None else f"{score:g}"


# The review page and the agent's actions ---------------------------------------------------------


def _events(session: Session, review: Review) -> list[ReviewEvent]:
    stmt = (
        select(ReviewEvent)
        .where(ReviewEvent.review_id == review.id)
        .options(joinedload(ReviewEvent.actor))
        .order_by(ReviewEvent.at, ReviewEvent.id)
    )
    return list(session.scalars(stmt))


def _sections(review: Review) -> list[tuple[str, list[tuple[Any, Any]]]]:
    """(section title, [(criterion, answer or None)]) in scorecard order."""
    answers = {answer.criterion_id: answer for answer in review.answers}
    return [
        (section.title, [(c, answers.get(c.id)) for c in section.criteria])
        for section in review.scorecard_version.sections
    ]


@bp.get("/<int:review_id>")
@role_required(REVIEW_READERS)
def detail(review_id: int) -> str | Response:
    """Show a review: score, answers and comments, disputes and the audit trail."""
    session = get_session()
    review = _visible_or_404(session, review_id)
    if review.status == ReviewStatus.DRAFT:
        return redirect(url_for("reviews.score", review_id=review.id))
    me = acting_user()
    is_agent = (
        me.role == Role.AGENT and review.agent_id is not None and me.agent_id == review.agent_id
    )
    return render_template(
        "reviews/detail.html",
        review=review,
        sections=_sections(review),
        events=_events(session, review),
        keys={criterion.key: criterion.title for criterion in review.scorecard_version.criteria},
        team_name=queries.team_names(session, [review.team_id]).get(review.team_id or 0),
        can_acknowledge=is_agent
        and review.status in (ReviewStatus.SUBMITTED, ReviewStatus.RESOLVED),
        can_dispute=is_agent and services.may_dispute(review),
        open_dispute=services.open_dispute(review),
        can_resolve=services.may_resolve(review, me),
        action_form=EmptyForm(),
        **_transcript(session, review.conversation),
    )


@bp.post("/<int:review_id>/acknowledge")
@role_required(Role.AGENT)
def acknowledge(review_id: int) -> Response:
    """Acknowledge my review."""
    session = get_session()
    review = _visible_or_404(session, review_id)
    if EmptyForm().validate_on_submit():
        try:
            services.acknowledge(session, review, by=acting_user())
        except ReviewError as error:
            session.rollback()
            flash(str(error), "danger")
        else:
            session.commit()
            flash("Review acknowledged.", "success")
    return redirect(url_for("reviews.detail", review_id=review.id))


@bp.route("/<int:review_id>/dispute", methods=["GET", "POST"])
@role_required(Role.AGENT)
def dispute(review_id: int) -> str | Response:
    """Dispute my review, giving a reason."""
    session = get_session()
    review = _visible_or_404(session, review_id)
    form = DisputeForm()
    if form.validate_on_submit():
        try:
            services.dispute(session, review, form.reason.data or "", by=acting_user())
        except ReviewError as error:
            session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("reviews.detail", review_id=review.id))
        session.commit()
        flash("Dispute sent. A manager will decide and you will see the outcome here.", "success")
        return redirect(url_for("reviews.detail", review_id=review.id))
    if review.agent_id != current_user.agent_id or not services.may_dispute(review):
        flash("This review cannot be disputed now.", "warning")
        return redirect(url_for("reviews.detail", review_id=review.id))
    return render_template("reviews/dispute.html", review=review, form=form)


# Resolving disputes ----------------------------------------------------------------------------


@bp.route("/disputes/<int:dispute_id>/resolve", methods=["GET", "POST"])
@role_required(RESOLVER_ROLES)
def resolve(dispute_id: int) -> str | Response | tuple[str, int]:
    """Decide a dispute: uphold the review with a note, or re-score it."""
    session = get_session()
    pending = session.get(Dispute, dispute_id) or abort(404)
    review = _visible_or_404(session, pending.review_id)
    if services.open_dispute(review) is not pending or not services.may_resolve(
        review, acting_user()
    ):
        flash("This dispute is decided, or not yours to decide.", "warning")
        return redirect(url_for("reviews.detail", review_id=review.id))
    criteria = ordered_criteria(review.scorecard_version)
    uphold = UpholdForm(prefix="uphold")
    rescore = scoring_form(criteria, RescoreForm, prefix="rescore")
    if request.method == "GET":
        rescore.fill(_stored_answers(review), review.overall_comment)
    if _decide(session, review, uphold, rescore):
        session.commit()
        outcome = pending.outcome.value if pending.outcome else ""
        flash(f"Dispute resolved: review {outcome}.", "success")
        return redirect(url_for("reviews.detail", review_id=review.id))
    html = render_template(
        "reviews/resolve.html",
        review=review,
        dispute=pending,
        uphold=uphold,
        rescore=rescore,
        criteria=criteria,
        sections=_sections(review),
        **_transcript(session, review.conversation),
    )
    return html, 422 if request.method == "POST" else 200


def _decide(session: Session, review: Review, uphold: UpholdForm, rescore: ScoringForm) -> bool:
    """Apply whichever decision was sent and valid; False (with form errors) otherwise."""
    try:
        if uphold.submit.data and uphold.validate_on_submit():
            note = uphold.note.data or ""
            services.resolve_dispute(session, review, DisputeOutcome.UPHELD, note, by=acting_user())
            return True
        if rescore.submit.data and rescore.validate_on_submit():
            note = rescore.note.data or ""
            answers = rescore.answers()
            services.resolve_dispute(
                session, review, DisputeOutcome.RESCORED, note, answers, by=acting_user()
            )
            return True
    except ReviewError as error:
        session.rollback()
        (rescore if rescore.submit.data else uphold).form_errors.append(str(error))
    except AnswerError as error:
        session.rollback()
        _show_answer_error(rescore, error)
    return False
