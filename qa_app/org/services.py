"""Operations on partners, teams and agents; they flush, the caller commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.concurrency import insert_once
from qa_app.org.models import Agent, AgentStatus, OrganisationSettings, Partner, Team


class OrgError(ValueError):
    """A rule about the organisation was broken; the message is fit to show the user."""


def _name_taken(
    session: Session, model: type[Partner] | type[Team], name: str, own_id: int | None
) -> bool:
    stmt = select(model.id).where(func.lower(model.name) == name.strip().lower())
    found = session.scalars(stmt).first()
    return found is not None and found != own_id


def save_partner(session: Session, partner: Partner | None, *, name: str) -> Partner:
    if _name_taken(session, Partner, name, partner.id if partner else None):
        raise OrgError("A partner with that name already exists.")
    if partner is None:
        partner = Partner(name=name.strip())
        session.add(partner)
    else:
        partner.name = name.strip()
    session.flush()
    return partner


def save_team(session: Session, team: Team | None, *, name: str, partner_id: int | None) -> Team:
    if _name_taken(session, Team, name, team.id if team else None):
        raise OrgError("A team with that name already exists.")
    if partner_id is not None:
        partner = session.get(Partner, partner_id)
        if partner is None or not partner.is_active:
            raise OrgError("Choose an active partner.")
    if team is None:
        team = Team(name=name.strip(), partner_id=partner_id)
        session.add(team)
    else:
        team.name, team.partner_id = name.strip(), partner_id
    session.flush()
    return team


def save_agent(
    session: Session,
    agent: Agent | None,
    *,
    name: str,
    team_id: int,
    external_id: str | None = None,
    email: str | None = None,
    hire_date: date | None = None,
    status: AgentStatus = AgentStatus.ACTIVE,
) -> Agent:
    external_id = (external_id or "").strip() or None
    if external_id is not None:
        other = session.scalars(select(Agent.id).where(Agent.external_id == external_id)).first()
        if other is not None and (agent is None or other != agent.id):
            raise OrgError("Another agent already has that external id.")
    team = session.get(Team, team_id)
    if team is None or (not team.is_active and (agent is None or agent.team_id != team_id)):
        raise OrgError("Choose an active team.")
    if agent is None:
        agent = Agent(team_id=team_id, name=name.strip())
        session.add(agent)
    agent.name, agent.team_id, agent.external_id = name.strip(), team_id, external_id
    agent.email = (email or "").strip().lower() or None
    agent.hire_date, agent.status = hire_date, status
    session.flush()
    return agent


def set_partner_active(session: Session, partner: Partner, active: bool) -> None:
    """Deactivating a partner deactivates its teams; history keeps pointing at both."""
    partner.is_active = active
    if not active:
        for team in partner.teams:
            team.is_active = False
    session.flush()


def set_team_active(session: Session, team: Team, active: bool) -> None:
    if active and team.partner is not None and not team.partner.is_active:
        raise OrgError("Reactivate the team's partner first.")
    team.is_active = active
    session.flush()


def set_agent_active(session: Session, agent: Agent, active: bool) -> None:
    agent.status = AgentStatus.ACTIVE if active else AgentStatus.INACTIVE
    session.flush()


def _by_name(name: str, model: type[Partner] | type[Team]) -> Any:
    """Names are unique ignoring case and surrounding spaces, so look them up the same way."""
    return select(model).where(func.lower(model.name) == name.strip().lower())


def get_or_create_partner(session: Session, name: str) -> Partner:
    """The partner of that name, created if missing; when a simultaneous import creates it
    first (the insert runs in a SAVEPOINT, see qa_app.concurrency), that one is returned."""

    def find() -> Partner | None:
        return session.scalars(_by_name(name, Partner)).first()

    partner = find()
    if partner is None:
        partner = insert_once(session, Partner(name=name.strip()), find)[0]
    return partner


def get_or_create_team(session: Session, name: str, partner: Partner | None) -> Team:
    """The team of that name, created (for ``partner``) if missing, as for partners."""
    partner_id = partner.id if partner else None

    def find() -> Team | None:
        return session.scalars(_by_name(name, Team)).first()

    team = find()
    if team is None:
        if partner is not None and not partner.is_active:
            raise OrgError("Choose an active partner.")
        team = insert_once(session, Team(name=name.strip(), partner_id=partner_id), find)[0]
    if team.partner_id != partner_id:
        raise OrgError(f"Team {name!r} belongs to another partner.")
    return team


def organisation_settings(session: Session, *, default_redact: bool = True) -> OrganisationSettings:
    """The settings row, created with the installation's defaults the first time it is asked for."""
    settings = session.scalars(
        select(OrganisationSettings).order_by(OrganisationSettings.id)
    ).first()
    if settings is None:
        settings = OrganisationSettings(redact_pii=default_redact)
        session.add(settings)
        session.flush()
    return settings
