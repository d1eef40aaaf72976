"""Sampling plans, their previews and runs (managers), and review assignments."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import get_session
from qa_app.forms import choices
from qa_app.org.access import role_required
from qa_app.org.models import Agent, AgentStatus, Partner, Team
from qa_app.org.scope import get_scoped_or_404
from qa_app.pagination import page_args, paginate
from qa_app.sampling import services
from qa_app.sampling.access import ASSIGNMENT_READERS, PLAN_MANAGERS, visible_assignments
from qa_app.sampling.engine import OPEN_STATUSES
from qa_app.sampling.forms import (
    STATUS_LABELS,
    UNASSIGNED,
    AssignmentFilterForm,
    PeriodForm,
    PlanForm,
    PreviewForm,
    ReassignForm,
    SkipForm,
)
from qa_app.sampling.models import (
    AssignmentStatus,
    ReviewAssignment,
    SamplingPlan,
    SamplingRun,
)
from qa_app.sampling.options import (
    IN_HOUSE,
    RISKS,
    STRATEGY_LABELS,
    describe_strategy,
    format_weight,
)
from qa_app.sampling.periods import PeriodError, current_week, parse_period
from qa_app.scorecards.models import Scorecard

bp = Blueprint("sampling", __name__, url_prefix="/sampling")


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {
        "format_weight": format_weight,
        "describe_strategy": describe_strategy,
        "STATUS_LABELS": STATUS_LABELS,
        "STRATEGY_LABELS": STRATEGY_LABELS,
        "RISKS": RISKS,
    }


def _plan_or_404(plan_id: int) -> SamplingPlan:
    plan = get_session().get(SamplingPlan, plan_id)
    if plan is None:
        abort(404)
    return plan


def _with_current(
    options: list[tuple[int, str]], current: list[int], label: Any
) -> list[tuple[int, str]]:
    """Keep already chosen values that are no longer offered (deactivated), marked as such."""
    offered = {value for value, _ in options}
    return options + [
        (value, f"{label(value)} (inactive)") for value in current if value not in offered
    ]


def _set_plan_choices(form: PlanForm, plan: SamplingPlan | None) -> None:
    session = get_session()
    chosen = PlanForm.initial(plan) if plan else {}

    def names(model: Any, ids: list[int]) -> dict[int, str]:
        rows = session.execute(select(model.id, model.name).where(model.id.in_(ids))).all()
        return dict(rows)

    scorecards = [
        (card.id, card.name)
        for card in session.scalars(
            select(Scorecard).where(Scorecard.is_active).order_by(Scorecard.name)
        )
    ]
    if plan is not None and plan.scorecard_id not in {card_id for card_id, _ in scorecards}:
        scorecards.append((plan.scorecard_id, f"{plan.scorecard.name} (inactive)"))
    form.scorecard_id.choices = choices([("", "Choose a scorecard"), *scorecards])

    partners = [(IN_HOUSE, "In-house teams")] + [
        (partner.id, partner.name)
        for partner in session.scalars(
            select(Partner).where(Partner.is_active).order_by(Partner.name)
        )
    ]
    old = chosen.get("partner_ids", [])
    form.partner_ids.choices = choices(_with_current(partners, old, names(Partner, old).get))
    teams = [
        (team.id, team.name)
        for team in session.scalars(select(Team).where(Team.is_active).order_by(Team.name))
    ]
    old = chosen.get("team_ids", [])
    form.team_ids.choices = choices(_with_current(teams, old, names(Team, old).get))
    agents = [
        (agent.id, agent.name)
        for agent in session.scalars(
            select(Agent).where(Agent.status != AgentStatus.INACTIVE).order_by(Agent.name, Agent.id)
        )
    ]
    old = chosen.get("agent_ids", [])
    form.agent_ids.choices = choices(_with_current(agents, old, names(Agent, old).get))
    reviewers = session.scalars(
        select(User)
        .options(joinedload(User.partner))
        .where(User.is_active, User.role.in_(services.REVIEWER_ROLES))
        .order_by(User.name)
    )
    form.reviewer_ids.choices = choices(
        (
            user.id,
            f"{user.name} · {user.role.label}"
            + (f" · {user.partner.name}" if user.partner else ""),
        )
        for user in reviewers
    )


# Plans ------------------------------------------------------------------------------------------


@bp.get("/")
@role_required(PLAN_MANAGERS)
def plans() -> str:
    """List sampling plans with their latest run and open assignments."""
    session = get_session()
    last_period = (
        select(SamplingRun.period)
        .where(SamplingRun.plan_id == SamplingPlan.id)
        .order_by(SamplingRun.created_at.desc(), SamplingRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    open_count = (
        select(func.count(ReviewAssignment.id))
        .where(
            ReviewAssignment.plan_id == SamplingPlan.id, ReviewAssignment.status.in_(OPEN_STATUSES)
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(SamplingPlan, last_period, open_count)
        .options(joinedload(SamplingPlan.scorecard), selectinload(SamplingPlan.reviewers))
        .order_by(SamplingPlan.is_active.desc(), SamplingPlan.name)
    ).all()
    return render_template("sampling/plans.html", rows=rows)


@bp.route("/plans/new", methods=["GET", "POST"], defaults={"plan_id": None})
@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@role_required(PLAN_MANAGERS)
def edit_plan(plan_id: int | None) -> str | Response:
    """Create or edit a sampling plan."""
    session = get_session()
    plan = _plan_or_404(plan_id) if plan_id else None
    form = PlanForm(data=PlanForm.initial(plan) if plan else {"seed": services.new_seed()})
    _set_plan_choices(form, plan)
    if form.validate_on_submit():
        try:
            saved = services.save_plan(session, plan, form.plan_input(), by=current_user)
        except services.SamplingError as error:
            form.form_errors.append(str(error))
        else:
            session.commit()
            flash(f"Plan {saved.name} saved.", "success")
            return redirect(url_for("sampling.plan", plan_id=saved.id))
    return render_template("sampling/edit_plan.html", form=form, plan=plan)


@bp.get("/plans/<int:plan_id>")
@role_required(PLAN_MANAGERS)
def plan(plan_id: int) -> str:
    """Show a plan's settings, its runs and the forms to preview or run it."""
    session = get_session()
    plan = _plan_or_404(plan_id)
    runs = session.scalars(
        select(SamplingRun)
        .where(SamplingRun.plan_id == plan.id)
        .order_by(SamplingRun.created_at.desc(), SamplingRun.id.desc())
        .limit(100)
    ).all()
    progress: dict[int | None, dict[str, int]] = {}  # keyed by ReviewAssignment.run_id
    if runs:
        status_counts = session.execute(
            select(ReviewAssignment.run_id, ReviewAssignment.status, func.count())
            .where(ReviewAssignment.run_id.in_([run.id for run in runs]))
            .group_by(ReviewAssignment.run_id, ReviewAssignment.status)
        )
        for run_id, status, count in status_counts:
            progress.setdefault(run_id, {})[AssignmentStatus(status).value] = count
    week = current_week().label
    return render_template(
        "sampling/plan.html",
        plan=plan,
        runs=runs,
        progress=progress,
        filters=services.describe_filters(session, plan.filters or {}),
        preview_form=PreviewForm(formdata=None, data={"period": week}),
        run_form=PeriodForm(formdata=None, data={"period": week}),
        run_unassigned=services.run_unassigned,
    )


@bp.get("/plans/<int:plan_id>/preview")
@role_required(PLAN_MANAGERS)
def preview(plan_id: int) -> tuple[str, int]:
    """Show how many conversations a run would sample per stratum; creates nothing."""
    session = get_session()
    plan = _plan_or_404(plan_id)
    form = PreviewForm(formdata=request.args)
    result = existing = None
    try:
        period = parse_period(form.period.data) if form.period.data else current_week()
    except PeriodError as error:
        form.period.errors = [str(error)]
    else:
        form.period.data = period.label
        existing = services.find_run(session, plan, period)
        try:
            result = services.preview_plan(session, plan, period)
        except services.SamplingError as error:
            form.period.errors = [str(error)]
    html = render_template(
        "sampling/preview.html",
        plan=plan,
        form=form,
        run_form=PeriodForm(formdata=None, data={"period": form.period.data}),
        result=result,
        existing=existing,
    )
    return html, 200 if result is not None else 400


@bp.post("/plans/<int:plan_id>/run")
@role_required(PLAN_MANAGERS)
def run_plan(plan_id: int) -> Response:
    """Run a plan for a period now (default: this week); a period already run adds nothing."""
    session = get_session()
    plan = _plan_or_404(plan_id)
    form = PeriodForm()
    if not form.validate_on_submit():
        flash("The period is not valid.", "danger")
        return redirect(url_for("sampling.plan", plan_id=plan.id))
    period_text = (form.period.data or "").strip() or current_week().label
    try:
        already = services.find_run(session, plan, period_text)
        run = services.run_plan(session, plan, period_text, by=current_user)
    except services.SamplingError as error:
        flash(str(error), "danger")
        return redirect(url_for("sampling.plan", plan_id=plan.id))
    session.commit()
    if already is not None:
        flash(
            f"{run.period} was already run on {run.created_at:%Y-%m-%d %H:%M} UTC; nothing added.",
            "info",
        )
    else:
        unassigned = services.run_unassigned(run)
        message = f"{run.period}: {run.sampled:,} of {run.candidates:,} candidates sampled."
        if unassigned:
            message += f" {unassigned:,} have no eligible reviewer; assign them by hand."
        flash(message, "warning" if unassigned else "success")
    return redirect(url_for("sampling.plan", plan_id=plan.id))


# Assignments ------------------------------------------------------------------------------------


def _set_filter_choices(form: AssignmentFilterForm, user: Any) -> None:
    session = get_session()
    visible = visible_assignments(user).subquery()
    plan_ids = select(visible.c.plan_id).where(visible.c.plan_id.is_not(None)).distinct()
    plans = session.execute(
        select(SamplingPlan.id, SamplingPlan.name)
        .where(SamplingPlan.id.in_(plan_ids))
        .order_by(SamplingPlan.name)
    ).all()
    form.plan.choices = choices([("", "All plans"), *((row.id, row.name) for row in plans)])
    if user.role in PLAN_MANAGERS:
        reviewers = session.execute(
            select(User.id, User.name)
            .where(User.id.in_(select(visible.c.reviewer_id).distinct()))
            .order_by(User.name)
        ).all()
        form.reviewer.choices = choices(
            [
                ("", "Anyone"),
                (UNASSIGNED, "Unassigned"),
                *((str(row.id), row.name) for row in reviewers),
            ]
        )
    else:
        del form.reviewer


@bp.get("/assignments")
@role_required(ASSIGNMENT_READERS)
def assignments() -> tuple[str, int]:
    """List review assignments: every one for managers, one's own for reviewers."""
    session = get_session()
    form = AssignmentFilterForm(formdata=request.args)
    _set_filter_choices(form, current_user)
    page = None
    if form.validate():
        stmt = visible_assignments(current_user).options(
            joinedload(ReviewAssignment.conversation).joinedload(Conversation.agent),
            joinedload(ReviewAssignment.conversation).joinedload(Conversation.team),
            joinedload(ReviewAssignment.reviewer),
            joinedload(ReviewAssignment.plan),
        )
        if form.plan.data:
            stmt = stmt.where(ReviewAssignment.plan_id == form.plan.data)
        reviewer = form.reviewer.data if form.reviewer is not None else ""
        if reviewer == UNASSIGNED:
            stmt = stmt.where(ReviewAssignment.reviewer_id.is_(None))
        elif reviewer:
            stmt = stmt.where(ReviewAssignment.reviewer_id == int(reviewer))
        if form.status.data == "":
            stmt = stmt.where(ReviewAssignment.status.in_(OPEN_STATUSES))
        elif form.status.data != "all":
            stmt = stmt.where(ReviewAssignment.status == AssignmentStatus(form.status.data))
        stmt = stmt.order_by(ReviewAssignment.due_at.asc().nulls_last(), ReviewAssignment.id)
        page = paginate(session, stmt, *page_args())
    html = render_template(
        "sampling/assignments.html",
        form=form,
        page=page,
        can_manage=current_user.role in PLAN_MANAGERS,
    )
    return html, 200 if page is not None else 400


@bp.get("/assignments/<int:assignment_id>")
@role_required(PLAN_MANAGERS)
def assignment(assignment_id: int) -> str:
    """Show an assignment, why it was sampled, and the forms to reassign or skip it."""
    session = get_session()
    item = get_scoped_or_404(session, ReviewAssignment, assignment_id, current_user)
    reassign_form = ReassignForm()
    reassign_form.reviewer_id.choices = _reviewer_choices(item)
    return render_template(
        "sampling/assignment.html",
        assignment=item,
        events=services.history(session, item),
        reassign_form=reassign_form,
        skip_form=SkipForm(),
        is_open=item.status in OPEN_STATUSES,
    )


def _reviewer_choices(item: ReviewAssignment) -> list[Any]:
    eligible = services.eligible_reviewers(get_session(), item)
    return choices(
        [
            ("", "Choose a reviewer"),
            *((user.id, f"{user.name} · {user.role.label}") for user in eligible),
        ]
    )


@bp.post("/assignments/<int:assignment_id>/reassign")
@role_required(PLAN_MANAGERS)
def reassign(assignment_id: int) -> Response:
    """Give an open assignment to another reviewer."""
    session = get_session()
    item = get_scoped_or_404(session, ReviewAssignment, assignment_id, current_user)
    form = ReassignForm()
    form.reviewer_id.choices = _reviewer_choices(item)
    if form.validate_on_submit():
        reviewer = session.get(User, form.reviewer_id.data)
        try:
            if reviewer is None:
                raise services.SamplingError("That reviewer does not exist.")
            services.reassign(session, item, reviewer, by=current_user)
        except services.SamplingError as error:
            flash(str(error), "danger")
        else:
            session.commit()
            flash(f"Assignment reassigned to {reviewer.name}.", "success")
    else:
        flash(" ".join(error for errors in form.errors.values() for error in errors), "danger")
    return redirect(url_for("sampling.assignment", assignment_id=item.id))


@bp.post("/assignments/<int:assignment_id>/skip")
@role_required(PLAN_MANAGERS)
def skip(assignment_id: int) -> Response:
    """Skip an assignment, giving the reason."""
    session = get_session()
    item = get_scoped_or_404(session, ReviewAssignment, assignment_id, current_user)
    form = SkipForm()
    if form.validate_on_submit():
        started_by = item.reviewer if item.status == AssignmentStatus.IN_PROGRESS else None
        try:
            services.skip(session, item, form.reason.data or "", by=current_user)
        except services.SamplingError as error:
            flash(str(error), "danger")
        else:
            session.commit()
            kept = f" {started_by.name} keeps the draft review as their own." if started_by else ""
            flash(f"Assignment skipped.{kept}", "success")
    else:
        flash(" ".join(error for errors in form.errors.values() for error in errors), "danger")
    return redirect(url_for("sampling.assignment", assignment_id=item.id))
