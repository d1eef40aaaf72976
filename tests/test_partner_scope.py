"""Partner users never reach another partner's objects; agents never reach other agents."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from qa_app.org.models import Agent, Team
from qa_app.org.roles import Role
from qa_app.org.scope import NOTHING, Scope, scope_of, scoped
from tests.conftest import Factory, login
from tests.routes import ROUTE_ACCESS, fill

SCOPED_PARAMETERS = ("<int:team_id>", "<int:agent_id>", "<int:conversation_id>")
# The API takes bearer tokens only (a session gets 401); tests/api checks its scope with tokens.
# Calibration pages reach conversations through a session, whose raters decide who reads them:
# tests/calibration/test_views.py checks their partner scope.
SCOPED_RULES = sorted(
    rule
    for rule in ROUTE_ACCESS
    if any(parameter in rule for parameter in SCOPED_PARAMETERS)
    and not rule.startswith(("/api/", "/calibration/"))
)


@pytest.fixture
def two_partners(make: Factory) -> dict[str, Any]:
    partner_a, partner_b = make.partner("Alpha BPO"), make.partner("Beta BPO")
    team_a, team_b = make.team("Alpha team", partner_a), make.team("Beta team", partner_b)
    house = make.team("House team")
    agent_a = make.agent(team_a, name="Alpha agent")
    agent_b = make.agent(team_b, name="Beta agent")
    agent_house = make.agent(house, name="House agent")
    return {
        "partner_a": partner_a,
        "team_a": team_a,
        "team_b": team_b,
        "house": house,
        "agent_a": agent_a,
        "agent_b": agent_b,
        "agent_house": agent_house,
        "conversation_a": make.conversation(agent_a),
        "conversation_b": make.conversation(agent_b),
        "conversation_house": make.conversation(agent_house),
    }


@pytest.mark.parametrize("role", [Role.PARTNER_VIEWER, Role.PARTNER_QA])
@pytest.mark.parametrize("rule", SCOPED_RULES)
def test_partner_user_gets_404_for_other_partners_objects(
    client: Any, make: Factory, two_partners: dict[str, Any], rule: str, role: Role
) -> None:
    login(client, make.user(role, partner=two_partners["partner_a"]))
    access = ROUTE_ACCESS[rule]
    for team, agent, conversation in [
        ("team_b", "agent_b", "conversation_b"),
        ("house", "agent_house", "conversation_house"),
    ]:
        ids = {
            "team_id": two_partners[team].id,
            "agent_id": two_partners[agent].id,
            "conversation_id": two_partners[conversation].id,
        }
        response = client.open(fill(rule, ids), method=access.method)
        expected = 404 if role.value in access.allowed else 403
        assert response.status_code == expected, fill(rule, ids)


def test_partner_lists_show_only_own_partner(
    client: Any, make: Factory, two_partners: dict[str, Any]
) -> None:
    login(client, make.user(Role.PARTNER_VIEWER, partner=two_partners["partner_a"]))
    teams = client.get("/org/teams").get_data(as_text=True)
    agents = client.get("/org/agents").get_data(as_text=True)
    dashboard = client.get("/").get_data(as_text=True)
    for page in (teams, dashboard):
        assert "Alpha team" in page
        assert "Beta team" not in page
        assert "House team" not in page
    assert "Alpha agent" in agents
    assert "Beta agent" not in agents
    assert "House agent" not in agents


def test_agent_sees_only_own_profile(
    client: Any, make: Factory, two_partners: dict[str, Any]
) -> None:
    login(client, make.user(Role.AGENT, agent=two_partners["agent_house"]))
    assert client.get(f"/org/agents/{two_partners['agent_house'].id}").status_code == 200
    assert client.get(f"/org/agents/{two_partners['agent_a'].id}").status_code == 404


def test_agent_opens_only_own_conversations(
    client: Any, make: Factory, two_partners: dict[str, Any]
) -> None:
    login(client, make.user(Role.AGENT, agent=two_partners["agent_house"]))
    own, other = two_partners["conversation_house"], two_partners["conversation_a"]
    assert client.get(f"/conversations/{own.id}").status_code == 200
    assert client.get(f"/conversations/{other.id}").status_code == 404


def test_scope_fails_closed(db: Any, two_partners: dict[str, Any]) -> None:
    class Stranger:
        is_authenticated = True
        role = Role.PARTNER_VIEWER
        partner_id = None
        agent_id = None

    class UnknownRole(Stranger):
        role = "superuser"  # type: ignore[assignment]
        partner_id = two_partners["partner_a"].id

    for user in (None, Stranger(), UnknownRole()):
        assert scope_of(user) == NOTHING
        assert db.scalars(scoped(select(Team), Team, user)).all() == []
        assert db.scalars(scoped(select(Agent), Agent, user)).all() == []


def test_scope_restricts_queries_by_partner(db: Any, two_partners: dict[str, Any]) -> None:
    scope = Scope(partner_id=two_partners["partner_a"].id)
    teams = db.scalars(select(Team).where(scope.condition(Team))).all()
    agents = db.scalars(select(Agent).where(scope.condition(Agent))).all()
    assert [team.name for team in teams] == ["Alpha team"]
    assert [agent.name for agent in agents] == ["Alpha agent"]
