"""Partners, teams and agents: a directory for readers, editing for admins and managers."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from qa_app.db import get_session
from qa_app.forms import EmptyForm, choices
from qa_app.org import services
from qa_app.org.access import role_required
from qa_app.org.forms import IN_HOUSE, AgentForm, PartnerForm, TeamForm
from qa_app.org.models import Agent, AgentStatus, Partner, Team
from qa_app.org.roles import ORG_EDITORS, ORG_READERS, Role
from qa_app.org.scope import get_scoped_or_404, scoped
from qa_app.pagination import id_arg, page_args, paginate

bp = Blueprint("org", __name__, url_prefix="/org")


def _partner_choices() -> list[tuple[int, str]]:
    partners = get_session().scalars(
        select(Partner).where(Partner.is_active).order_by(Partner.name)
    )
    return [(IN_HOUSE, "In-house")] + [(partner.id, partner.name) for partner in partners]


def _team_choices(user: object) -> list[tuple[int, str]]:
    stmt = scoped(select(Team).where(Team.is_active).order_by(Team.name), Team, user)
    return [(team.id, team.name) for team in get_session().scalars(stmt)]


# Partners ---------------------------------------------------------------------------------------


@bp.get("/partners")
@role_required(ORG_EDITORS)
def partners() -> str:
    """List partners with their number of teams and agents."""
    session = get_session()
    team_count = select(func.count(Team.id)).where(Team.partner_id == Partner.id).scalar_subquery()
    agent_count = (
        select(func.count(Agent.id))
        .join(Team, Agent.team_id == Team.id)
        .where(Team.partner_id == Partner.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Partner, team_count, agent_count).order_by(Partner.is_active.desc(), Partner.name)
    ).all()
    return render_template("org/partners.html", rows=rows, action_form=EmptyForm())


@bp.route("/partners/new", methods=["GET", "POST"], defaults={"partner_id": None})
@bp.route("/partners/<int:partner_id>/edit", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def edit_partner(partner_id: int | None) -> str | Response:
    """Create or rename a partner."""
    session = get_session()
    partner = session.get(Partner, partner_id) if partner_id else None
    if partner_id and partner is None:
        abort(404)
    form = PartnerForm(obj=partner)
    if form.validate_on_submit():
        try:
            saved = services.save_partner(session, partner, name=form.name.data or "")
        except services.OrgError as error:
            form.name.errors = [str(error)]
        else:
            session.commit()
            flash(f"Partner {saved.name} saved.", "success")
            return redirect(url_for("org.partners"))
    return render_template("org/edit_partner.html", form=form, partner=partner)


@bp.post("/partners/<int:partner_id>/deactivate", defaults={"active": False})
@bp.post("/partners/<int:partner_id>/reactivate", defaults={"active": True})
@role_required(Role.ADMIN)
def set_partner_active(partner_id: int, active: bool) -> Response:
    """Deactivate (with its teams) or reactivate a partner."""
    session = get_session()
    partner = session.get(Partner, partner_id) or abort(404)
    if EmptyForm().validate_on_submit():
        services.set_partner_active(session, partner, active)
        session.commit()
        flash(f"Partner {partner.name} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("org.partners"))


# Teams ------------------------------------------------------------------------------------------


@bp.get("/teams")
@role_required(ORG_READERS)
def teams() -> str:
    """List the teams the user may see, with their active agents."""
    session = get_session()
    agent_count = (
        select(func.count(Agent.id))
        .where(Agent.team_id == Team.id, Agent.status != AgentStatus.INACTIVE)
        .scalar_subquery()
    )
    stmt = scoped(
        select(Team, agent_count)
        .options(joinedload(Team.partner))
        .order_by(Team.is_active.desc(), Team.name),
        Team,
        current_user,
    )
    rows = session.execute(stmt).all()
    return render_template("org/teams.html", rows=rows, action_form=EmptyForm())


@bp.get("/teams/<int:team_id>")
@role_required(ORG_READERS)
def team(team_id: int) -> str:
    """Show a team and its agents."""
    session = get_session()
    team = get_scoped_or_404(session, Team, team_id, current_user)
    agents = session.scalars(
        select(Agent).where(Agent.team_id == team.id).order_by(Agent.name)
    ).all()
    return render_template("org/team.html", team=team, agents=agents)


@bp.route("/teams/new", methods=["GET", "POST"], defaults={"team_id": None})
@bp.route("/teams/<int:team_id>/edit", methods=["GET", "POST"])
@role_required(ORG_EDITORS)
def edit_team(team_id: int | None) -> str | Response:
    """Create or edit a team."""
    session = get_session()
    team = get_scoped_or_404(session, Team, team_id, current_user) if team_id else None
    form = TeamForm(obj=team)
    form.partner_id.choices = choices(_partner_choices())
    if request.method == "GET" and team is not None:
        form.partner_id.data = team.partner_id or IN_HOUSE
    if form.validate_on_submit():
        try:
            saved = services.save_team(
                session, team, name=form.name.data or "", partner_id=form.partner_id.data or None
            )
        except services.OrgError as error:
            form.name.errors = [str(error)]
        else:
            session.commit()
            flash(f"Team {saved.name} saved.", "success")
            return redirect(url_for("org.team", team_id=saved.id))
    return render_template("org/edit_team.html", form=form, team=team)


@bp.post("/teams/<int:team_id>/deactivate", defaults={"active": False})
@bp.post("/teams/<int:team_id>/reactivate", defaults={"active": True})
@role_required(ORG_EDITORS)
def set_team_active(team_id: int, active: bool) -> Response:
    """Deactivate or reactivate a team."""
    session = get_session()
    team = get_scoped_or_404(session, Team, team_id, current_user)
    if EmptyForm().validate_on_submit():
        try:
            services.set_team_active(session, team, active)
        except services.OrgError as error:
            flash(str(error), "danger")
        else:
            session.commit()
            flash(f"Team {team.name} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("org.teams"))


# Agents -----------------------------------------------------------------------------------------


@bp.get("/agents")
@role_required(ORG_READERS)
def agents() -> str:
    """List agents with filters by team, status and name."""
    session = get_session()
    stmt = scoped(select(Agent).options(joinedload(Agent.team)), Agent, current_user)
    team_id = id_arg("team")
    status = request.args.get("status", "")
    query = request.args.get("q", "").strip()
    if team_id:
        stmt = stmt.where(Agent.team_id == team_id)
    if status in set(AgentStatus):
        stmt = stmt.where(Agent.status == AgentStatus(status))
    if query:
        pattern = f"%{query.lower()}%"
        stmt = stmt.where(
            or_(func.lower(Agent.name).like(pattern), func.lower(Agent.external_id).like(pattern))
        )
    page = paginate(session, stmt.order_by(Agent.name, Agent.id), *page_args())
    return render_template(
        "org/agents.html",
        page=page,
        teams=_team_choices(current_user),
        statuses=list(AgentStatus),
        filters={"team": team_id, "status": status, "q": query},
    )


@bp.get("/agents/<int:agent_id>")
@role_required(ORG_READERS | {Role.AGENT})
def agent(agent_id: int) -> str:
    """Show an agent's profile."""
    session = get_session()
    agent = get_scoped_or_404(session, Agent, agent_id, current_user)
    return render_template("org/agent.html", agent=agent, action_form=EmptyForm())


@bp.route("/agents/new", methods=["GET", "POST"], defaults={"agent_id": None})
@bp.route("/agents/<int:agent_id>/edit", methods=["GET", "POST"])
@role_required(ORG_EDITORS)
def edit_agent(agent_id: int | None) -> str | Response:
    """Create or edit an agent profile."""
    session = get_session()
    agent = get_scoped_or_404(session, Agent, agent_id, current_user) if agent_id else None
    form = AgentForm(obj=agent)
    team_choices = _team_choices(current_user)
    if agent is not None and agent.team_id not in {team_id for team_id, _ in team_choices}:
        team_choices.append((agent.team_id, f"{agent.team.name} (inactive)"))
    form.team_id.choices = choices(team_choices)
    if form.validate_on_submit():
        try:
            saved = services.save_agent(
                session,
                agent,
                name=form.name.data or "",
                team_id=form.team_id.data,
                external_id=form.external_id.data,
                email=form.email.data,
                hire_date=form.hire_date.data,
                status=AgentStatus(form.status.data),
            )
        except services.OrgError as error:
            form.external_id.errors = [str(error)]
        else:
            session.commit()
            flash(f"Agent {saved.name} saved.", "success")
            return redirect(url_for("org.agent", agent_id=saved.id))
    return render_template("org/edit_agent.html", form=form, agent=agent)


@bp.post("/agents/<int:agent_id>/deactivate", defaults={"active": False})
@bp.post("/agents/<int:agent_id>/reactivate", defaults={"active": True})
@role_required(ORG_EDITORS)
def set_agent_active(agent_id: int, active: bool) -> Response:
    """Deactivate or reactivate an agent."""
    session = get_session()
    agent = get_scoped_or_404(session, Agent, agent_id, current_user)
    if EmptyForm().validate_on_submit():
        services.set_agent_active(session, agent, active)
        session.commit()
        flash(f"Agent {agent.name} {'reactivated' if active else 'deactivated'}.", "success")
    return redirect(url_for("org.agent", agent_id=agent.id))
