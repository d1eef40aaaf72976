"""Dashboard figures, counted in SQL within the user's scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.org.models import Agent, AgentStatus, Partner, Team
from qa_app.org.roles import Role
from qa_app.org.scope import scoped


@dataclass(frozen=True)
class DashboardFigures:
    partners: int | None
    teams: int
    active_agents: int
    users: int | None
    team_rows: list[Any]


def dashboard_figures(session: Session, user: Any) -> DashboardFigures:
    """Count what the user may see; partner users see only their partner's part."""
    active_agents = (
        select(func.count(Agent.id))
        .where(Agent.team_id == Team.id, Agent.status == AgentStatus.ACTIVE)
        .scalar_subquery()
    )
    team_rows = session.execute(
        scoped(
            select(Team.id, Team.name, Partner.name.label("partner"), active_agents.label("agents"))
            .outerjoin(Partner, Team.partner_id == Partner.id)
            .where(Team.is_active)
            .order_by(Partner.name.nullsfirst(), Team.name),
            Team,
            user,
        )
    ).all()
    is_admin = user.role == Role.ADMIN
    in_house = user.role in {Role.ADMIN, Role.MANAGER, Role.QA_SPECIALIST}
    return DashboardFigures(
        partners=session.scalar(select(func.count(Partner.id)).where(Partner.is_active))
        if in_house
        else None,
        teams=len(team_rows),
        active_agents=sum(row.agents for row in team_rows),
        users=session.scalar(select(func.count(User.id)).where(User.is_active))
        if is_admin
        else None,
        team_rows=list(team_rows),
    )
