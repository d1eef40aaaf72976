"""The navigation each role sees; a view's own role check is what actually protects it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for

from qa_app.calibration.access import CALIBRATION_READERS
from qa_app.org.roles import ORG_EDITORS, ORG_READERS, Role


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    url: str
    group: str | None = None  # shown in the bar's "Manage" menu, so the bar fits 1366 px


MANAGE = "Manage"


def navigation(user: Any) -> list[NavItem]:
    if not getattr(user, "is_authenticated", False):
        return []
    items = [NavItem("main.dashboard", "Dashboard", url_for("main.dashboard"))]
    items.append(
        NavItem(
            "conversations.list_conversations",
            "My conversations" if user.role == Role.AGENT else "Conversations",
            url_for("conversations.list_conversations"),
        )
    )
    if user.role in {Role.ADMIN, Role.MANAGER, Role.QA_SPECIALIST, Role.PARTNER_QA}:
        items.append(NavItem("reviews.my_queue", "My queue", url_for("reviews.my_queue")))
    items.append(
        NavItem(
            "reviews.list_reviews",
            "My reviews" if user.role == Role.AGENT else "Reviews",
            url_for("reviews.list_reviews"),
        )
    )
    if user.role in CALIBRATION_READERS:
        items.append(
            NavItem(
                "calibration.list_sessions", "Calibration", url_for("calibration.list_sessions")
            )
        )
    if user.role in ORG_READERS:
        items.append(NavItem("org.teams", "Teams", url_for("org.teams")))
        items.append(NavItem("org.agents", "Agents", url_for("org.agents")))
    items.append(NavItem("scorecards.scorecards", "Scorecards", url_for("scorecards.scorecards")))
    if user.role in ORG_EDITORS:
        items.append(NavItem("sampling.plans", "Sampling", url_for("sampling.plans")))
        items.append(NavItem("org.partners", "Partners", url_for("org.partners"), MANAGE))
        items.append(
            NavItem(
                "conversation_imports.upload",
                "Import",
                url_for("conversation_imports.upload"),
                MANAGE,
            )
        )
        items.append(NavItem("jobs.jobs", "Jobs", url_for("jobs.jobs"), MANAGE))
    if user.role == Role.AGENT and user.agent_id:
        items.append(
            NavItem("org.agent", "My profile", url_for("org.agent", agent_id=user.agent_id))
        )
    if user.role == Role.ADMIN:
        items.append(NavItem("admin.users", "Users", url_for("admin.users"), MANAGE))
        items.append(NavItem("admin.settings", "Settings", url_for("admin.settings"), MANAGE))
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals["navigation"] = navigation
