"""The dashboard of each role: what to do now and how things stand, counted in SQL in scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from qa_app.calibration.access import can_facilitate
from qa_app.calibration.services import RATER_ROLES
from qa_app.main import agent_panel, calibration_panel, queries
from qa_app.org.roles import IN_HOUSE_STAFF, PARTNER_ROLES, Role
from qa_app.reviews.queries import day_start
from qa_app.reviews.services import RESOLVER_ROLES, REVIEWER_ROLES
from qa_app.sampling.periods import current_week

RECENT_DAYS = 30  # "the last 30 days", from the start of the day, as on the agent's page
LONG_DAYS = 90
LATEST_REVIEWS = 5


@dataclass(frozen=True)
class AgentPanel:
    figures: agent_panel.AgentFigures
    awaiting: list[agent_panel.ReviewLine]  # the newest few waiting for the acknowledgement
    latest: list[agent_panel.ReviewLine]


@dataclass(frozen=True)
class Dashboard:
    """The panels the user's role has; None where the role has no such panel."""

    now: datetime
    since: date  # the first day of the last 30 days
    queue: queries.QueueFigures | None = None
    reviews: queries.ReviewFigures | None = None
    disputes: queries.DisputeFigures | None = None
    calibration: calibration_panel.CalibrationFigures | None = None
    agent: AgentPanel | None = None
    org: queries.OrgFigures | None = None
    oversees: bool = False  # managers and administrators: the organisation's review figures
    rates: bool = False  # roles invited to rate in calibration sessions
    partner_overview: bool = False  # partner users: their partner's review figures

    @property
    def oldest_dispute_days(self) -> int | None:
        if self.disputes is None or not self.disputes.oldest:
            return None
        return (self.now - self.disputes.oldest[0].raised_at).days

    @property
    def has_work(self) -> bool:
        return any(panel is not None for panel in (self.queue, self.disputes, self.calibration))


def _since(now: datetime, days: int) -> date:
    return now.date() - timedelta(days=days)


def _agent_dashboard(session: Session, user: Any, now: datetime) -> Dashboard:
    since = _since(now, RECENT_DAYS)
    figures = agent_panel.agent_figures(
        session,
        user,
        since_30=day_start(since),
        since_90=day_start(_since(now, LONG_DAYS)),
    )
    awaiting = (
        agent_panel.agent_reviews(session, user, awaiting_only=True) if figures.awaiting else []
    )
    latest = (
        agent_panel.agent_reviews(session, user, limit=LATEST_REVIEWS) if figures.reviews else []
    )
    return Dashboard(now=now, since=since, agent=AgentPanel(figures, awaiting, latest))


def dashboard(session: Session, user: Any, *, now: datetime) -> Dashboard:
    """Everything the user's first screen shows, in a handful of queries."""
    if user.role == Role.AGENT:
        return _agent_dashboard(session, user, now)
    since = _since(now, RECENT_DAYS)
    reviewer, oversees = user.role in REVIEWER_ROLES, user.role in RESOLVER_ROLES
    partner_user, rates = user.role in PARTNER_ROLES, user.role in RATER_ROLES
    facilitator = can_facilitate(user)
    week_end = current_week(now).end
    queue = queries.queue_figures(session, user, now=now, week_end=week_end) if reviewer else None
    reviews = None
    if reviewer or oversees or partner_user:
        reviews = queries.review_figures(session, user, since=day_start(since))
    calibration = None
    if facilitator or rates:
        calibration = calibration_panel.calibration_figures(
            session, user, now=now, facilitator=facilitator
        )
    return Dashboard(
        now=now,
        since=since,
        queue=queue,
        reviews=reviews,
        disputes=queries.dispute_figures(session, user) if oversees else None,
        calibration=calibration,
        org=queries.org_figures(
            session, user, in_house=user.role in IN_HOUSE_STAFF, admin=user.role == Role.ADMIN
        ),
        oversees=oversees,
        rates=rates,
        partner_overview=partner_user,
    )
