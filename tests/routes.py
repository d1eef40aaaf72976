"""Every route of the app with who may open it (ROUTE_ACCESS), and one world of objects to fill
the routes' ids with; used by the permission, partner-scope and no-server-error tests.

A new route without an entry in ROUTE_ACCESS fails test_every_route_has_an_access_entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Flask

from qa_app.auth.tokens import create_token
from qa_app.org.roles import Role
from tests.access import ALL, ANONYMOUS, EDITORS, READERS, Access, allow
from tests.calibration.factories import permission_world as calibration_world
from tests.conftest import Factory
from tests.feature_routes import FEATURE_ROUTES
from tests.jobs import routes as job_routes
from tests.reviews.factories import review_world
from tests.sampling.world import sampling_world
from tests.scorecards.world import scorecard_world

CORE_ROUTES: dict[str, Access] = {
    "/": allow("GET", ALL),
    "/login": Access("GET", frozenset({ANONYMOUS}), ok=200),  # logged-in users are redirected
    "/logout": allow("POST", ALL, ok=302),
    "/account/password": allow("GET", ALL),
    "/org/partners": allow("GET", EDITORS),
    "/org/partners/new": allow("GET", {"admin"}),
    "/org/partners/<int:partner_id>/edit": allow("GET", {"admin"}),
    "/org/partners/<int:partner_id>/deactivate": allow("POST", {"admin"}, ok=302),
    "/org/partners/<int:partner_id>/reactivate": allow("POST", {"admin"}, ok=302),
    "/org/teams": allow("GET", READERS),
    "/org/teams/<int:team_id>": allow("GET", READERS),
    "/org/teams/new": allow("GET", EDITORS),
    "/org/teams/<int:team_id>/edit": allow("GET", EDITORS),
    "/org/teams/<int:team_id>/deactivate": allow("POST", EDITORS, ok=302),
    "/org/teams/<int:team_id>/reactivate": allow("POST", EDITORS, ok=302),
    "/org/agents": allow("GET", READERS),
    "/org/agents/<int:agent_id>": allow("GET", READERS | {"agent"}),
    "/org/agents/new": allow("GET", EDITORS),
    "/org/agents/<int:agent_id>/edit": allow("GET", EDITORS),
    "/org/agents/<int:agent_id>/deactivate": allow("POST", EDITORS, ok=302),
    "/org/agents/<int:agent_id>/reactivate": allow("POST", EDITORS, ok=302),
    "/admin/users": allow("GET", {"admin"}),
    "/admin/users/new": allow("GET", {"admin"}),
    "/admin/users/<int:user_id>/edit": allow("GET", {"admin"}),
    "/admin/users/<int:user_id>/deactivate": allow("POST", {"admin"}, ok=302),
    "/admin/users/<int:user_id>/reactivate": allow("POST", {"admin"}, ok=302),
    "/admin/users/<int:user_id>/reset-password": allow("POST", {"admin"}),
}

# Each feature keeps its own table beside its tests; they are merged here so one test sees all.
ROUTE_ACCESS: dict[str, Access] = {**CORE_ROUTES, **FEATURE_ROUTES, **job_routes.ROUTES}

# Logged-in users who open the login page are sent to their dashboard.
LOGIN_REDIRECT = {role: 302 for role in ALL}


def app_rules(app: Flask) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"}


@dataclass
class World:
    """One partner's objects (partner A) that partner users may see, and a target user."""

    ids: dict[str, int]
    users: dict[str, Any]


def build_world(make: Factory) -> World:
    partner_a = make.partner("Partner A")
    team_a = make.team("Team A", partner_a)
    agent_a = make.agent(team_a, name="Agent A")
    users: dict[str, Any] = {
        "admin": make.user(Role.ADMIN),
        "manager": make.user(Role.MANAGER),
        "qa_specialist": make.user(Role.QA_SPECIALIST),
        "agent": make.user(Role.AGENT, agent=agent_a),
        "partner_viewer": make.user(Role.PARTNER_VIEWER, partner=partner_a),
        "partner_qa": make.user(Role.PARTNER_QA, partner=partner_a),
    }
    target = make.user(Role.QA_SPECIALIST, email="target@example.org")
    conversation = make.conversation(agent_a)
    ids = {"partner_id": partner_a.id, "team_id": team_a.id, "agent_id": agent_a.id}
    ids["user_id"] = target.id
    ids["token_id"] = create_token(make.session, target, "target's token")[0].id
    make.session.commit()
    ids["conversation_id"] = conversation.id
    ids.update(scorecard_world(make.session))
    ids.update(review_world(make, agent_a, conversation, users["agent"]))
    ids.update(sampling_world(make.session))
    ids.update(calibration_world(make, conversation, users))
    ids.update(job_routes.job_world(make.session, target.id))
    return World(ids=ids, users=users)


def fill(rule: str, ids: dict[str, int]) -> str:
    return re.sub(r"<int:(\w+)>", lambda match: str(ids[match.group(1)]), rule)
