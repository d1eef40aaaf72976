"""Managing partners, teams and agents through the web UI; nothing is hard-deleted."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from qa_app.org.models import Agent, AgentStatus, Partner, Team
from qa_app.org.roles import Role
from tests.conftest import Factory, login


def test_admin_creates_partner_and_partner_team(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.ADMIN))
    assert client.post("/org/partners/new", data={"name": "Lumen Outsourcing"}).status_code == 302
    partner = db.scalars(select(Partner).where(Partner.name == "Lumen Outsourcing")).one()
    response = client.post(
        "/org/teams/new", data={"name": "Lumen After-hours", "partner_id": partner.id}
    )
    assert response.status_code == 302
    team = db.scalars(select(Team).where(Team.name == "Lumen After-hours")).one()
    assert team.partner_id == partner.id
    assert "Lumen After-hours" in client.get("/org/teams").get_data(as_text=True)


def test_duplicate_team_name_rerenders_with_error(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.MANAGER))
    make.team("Tier 1 Chat")
    response = client.post("/org/teams/new", data={"name": "tier 1 chat", "partner_id": 0})
    assert response.status_code == 200
    assert "A team with that name already exists." in response.get_data(as_text=True)
    assert db.scalar(select(func.count(Team.id))) == 1


def test_manager_creates_and_edits_agent(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.MANAGER))
    team = make.team("Tier 2 Specialists")
    response = client.post(
        "/org/agents/new",
        data={
            "name": "Priya Nair",
            "external_id": "ag-009",
            "email": "",
            "team_id": team.id,
            "hire_date": "2025-03-01",
            "status": "active",
        },
    )
    assert response.status_code == 302
    agent = db.scalars(select(Agent).where(Agent.external_id == "ag-009")).one()
    assert str(agent.hire_date) == "2025-03-01"
    page = client.get(f"/org/agents/{agent.id}").get_data(as_text=True)
    assert "Priya Nair" in page
    assert "Tier 2 Specialists" in page


def test_duplicate_agent_external_id_is_rejected(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.MANAGER))
    existing = make.agent()
    response = client.post(
        "/org/agents/new",
        data={
            "name": "Copy",
            "external_id": existing.external_id,
            "team_id": existing.team_id,
            "status": "active",
        },
    )
    assert "Another agent already has that external id." in response.get_data(as_text=True)
    assert db.scalar(select(func.count(Agent.id))) == 1


def test_deactivating_partner_keeps_rows_and_deactivates_teams(
    client: Any, make: Factory, db: Any
) -> None:
    login(client, make.user(Role.ADMIN))
    partner = make.partner()
    team = make.team(partner=partner)
    agent = make.agent(team)
    assert client.post(f"/org/partners/{partner.id}/deactivate").status_code == 302
    db.expire_all()
    assert db.get(Partner, partner.id).is_active is False
    assert db.get(Team, team.id).is_active is False
    assert db.get(Agent, agent.id) is not None
    assert client.post(f"/org/teams/{team.id}/reactivate").status_code == 302
    db.expire_all()
    assert db.get(Team, team.id).is_active is False  # its partner must come back first


def test_deactivate_and_reactivate_agent(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.MANAGER))
    agent = make.agent()
    client.post(f"/org/agents/{agent.id}/deactivate")
    db.expire_all()
    assert db.get(Agent, agent.id).status == AgentStatus.INACTIVE
    page = client.get("/org/agents?status=inactive").get_data(as_text=True)
    assert agent.name in page
    client.post(f"/org/agents/{agent.id}/reactivate")
    db.expire_all()
    assert db.get(Agent, agent.id).status == AgentStatus.ACTIVE


def test_agent_list_is_paginated_and_filtered(client: Any, make: Factory) -> None:
    login(client, make.user(Role.QA_SPECIALIST))
    team = make.team("Big team")
    for number in range(30):
        make.agent(team, name=f"Person {number:02d}")
    first = client.get("/org/agents").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert "Person 00" in first
    assert "Person 29" not in first
    assert "Person 29" in client.get("/org/agents?page=2").get_data(as_text=True)
    assert "Person 07" in client.get("/org/agents?q=person 07").get_data(as_text=True)


def test_text_is_escaped(client: Any, make: Factory) -> None:
    login(client, make.user(Role.MANAGER))
    make.team("<script>alert(1)</script>")
    page = client.get("/org/teams").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
