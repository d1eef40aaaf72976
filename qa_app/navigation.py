"""The navigation each role sees; a view's own role check is what actually protects it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for

from qa_app.auth.roles import ORG_EDITORS, ORG_READERS, Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    url: str


def navigation(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = [NavItem("main.dashboard", "Dashboard", url_for("main.dashboard"))]
    if user.role in ORG_READERS:
        items.append(NavItem("org.teams", "Teams", url_for("org.teams")))
        items.append(NavItem("org.agents", "Agents", url_for("org.agents")))
    if user.role in ORG_EDITORS:
        items.append(NavItem("org.partners", "Partners", url_for("org.partners")))
    if user.role == Role.AGENT and user.agent_id:
        items.append(
            NavItem("org.agent", "My profile", url_for("org.agent", agent_id=user.agent_id))
        )
    if user.role == Role.ADMIN:
        items.append(NavItem("admin.users", "Users", url_for("admin.users")))
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["navigation"] = navigation
