"""Reading reviews on the web: the filtered list, an agent's scorecard, the sample-size advisor."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import render_template, request
from flask_login import current_user

from qa_app.conversations import browse
from qa_app.db import get_session, utcnow
from qa_app.org.access import role_required
from qa_app.org.models import Agent
from qa_app.org.scope import get_scoped_or_404
from qa_app.pagination import page_args, paginate
from qa_app.reviews import queries
from qa_app.reviews.blueprint import REVIEW_READERS, bp
from qa_app.reviews.forms import ANY, AdvisorForm, ReviewFilterForm
from qa_app.reviews.models import Review, ReviewStatus
from qa_app.reviews.services import RESOLVER_ROLES
from qa_app.reviews.stats import expected_half_width, reviews_needed

RECENT_REVIEWS = 10
PERIODS = {30: "30 days", 90: "90 days", 365: "12 months"}
DEFAULT_PERIOD = 90


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _float_or_none(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _filters(form: ReviewFilterForm) -> queries.ReviewFilters:
    status = form.status.data
    return queries.ReviewFilters(
        agent_id=_int_or_none(form.agent.data),
        team_id=_int_or_none(form.team.data),
        status=ReviewStatus(status) if status and status != ANY else None,
        submitted_from=form.submitted_from.data,
        submitted_to=form.submitted_to.data,
        score_min=_float_or_none(form.score_min.data),
        score_max=_float_or_none(form.score_max.data),
    )


def _list_args(form: ReviewFilterForm) -> dict[str, Any]:
    """The filter values as query arguments for page links (never the raw query string)."""
    args = {name: request.args.get(name, "").strip() for name in form.data}
    return {name: value for name, value in args.items() if value}


@bp.get("/")
@role_required(REVIEW_READERS)
def list_reviews() -> tuple[str, int]:
    """List the reviews the user may see, with filters, newest first."""
    session = get_session()
    form = ReviewFilterForm(request.args)
    form.set_choices(
        browse.agent_choices(session, current_user), browse.team_choices(session, current_user)
    )
    page, teams = None, {}
    if form.validate():
        stmt = queries.review_list(current_user, _filters(form)).options(*queries.list_loading())
        page = paginate(session, stmt, *page_args())
        teams = queries.team_names(session, [review.team_id for review in page.items])
    html = render_template(
        "reviews/list.html", form=form, page=page, teams=teams, args=_list_args(form)
    )
    return html, 200 if page is not None else 400


@bp.get("/agents/<int:agent_id>")
@role_required(REVIEW_READERS)
def agent_scorecard(agent_id: int) -> str:
    """Show an agent's QA score with its 95 % confidence interval, and recent reviews."""
    session = get_session()
    agent = get_scoped_or_404(session, Agent, agent_id, current_user)
    days = request.args.get("days", DEFAULT_PERIOD, type=int)
    days = days if days in PERIODS else DEFAULT_PERIOD
    since = utcnow().date() - timedelta(days=days)
    filters = queries.ReviewFilters(agent_id=agent.id, submitted_from=since)
    scores = queries.agent_scores(session, filters, user=current_user)
    recent = session.scalars(
        queries.review_list(current_user, queries.ReviewFilters(agent_id=agent.id))
        .where(Review.status != ReviewStatus.DRAFT)
        .options(*queries.list_loading())
        .limit(RECENT_REVIEWS)
    ).all()
    return render_template(
        "reviews/agent.html",
        agent=agent,
        score=scores[0] if scores else None,
        recent=recent,
        days=days,
        periods=PERIODS,
        since=since,
    )


def months_ago(day: date, months: int) -> date:
    """The same day ``months`` calendar months earlier (clamped to the month's last day)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has a 28th")


@bp.get("/advisor")
@role_required(RESOLVER_ROLES)
def advisor() -> tuple[str, int]:
    """Advise how many reviews per agent per month give the precision a manager chooses."""
    session = get_session()
    form = AdvisorForm(request.args)
    rows: list[dict[str, Any]] = []
    valid = form.validate()
    margin = float(form.margin.data or 0) if valid else 0.0
    confidence = float(form.confidence.data) if valid else 0.95
    months = int(form.months.data) if valid else 6
    today = utcnow().date()
    since = months_ago(today, months)
    if valid:
        filters = queries.ReviewFilters(submitted_from=since)
        for team in queries.score_variance(session, filters, user=current_user):
            sd = team.pooled.sd
            per_agent_month = team.reviews / team.agents / months if team.agents else 0.0
            current = int(per_agent_month)
            rows.append(
                {
                    "team": team,
                    "needed": reviews_needed(sd, margin, confidence) if sd is not None else None,
                    "per_agent_month": per_agent_month,
                    "current_margin": expected_half_width(sd, current, confidence)
                    if sd is not None and current >= 2
                    else None,
                }
            )
    html = render_template(
        "reviews/advisor.html",
        form=form,
        rows=rows,
        margin=margin,
        confidence=confidence,
        months=months,
        since=since,
    )
    return html, 200 if valid else 400
