"""In a real browser: an admin logs in and creates a team; a partner viewer sees only theirs."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from qa_app.org.models import Team
from qa_app.org.roles import Role
from tests.browser.pages import log_in
from tests.conftest import Factory

expect = pytest.importorskip("playwright.sync_api").expect


def test_admin_logs_in_and_creates_a_team(page: Any, make: Factory, db: Any) -> None:
    admin = make.user(Role.ADMIN, email="admin@example.org")
    make.partner("Northwind BPO")
    log_in(page, admin.email)
    expect(page.get_by_test_id("whoami")).to_contain_text("Administrator")

    page.get_by_role("link", name="Teams").click()
    page.get_by_role("link", name="New team").click()
    page.get_by_label("Name").fill("Northwind Weekend")
    page.get_by_label("Belongs to").select_option(label="Northwind BPO")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("alert")).to_contain_text("Team Northwind Weekend saved.")
    expect(page.locator("h1")).to_contain_text("Northwind Weekend")
    team = db.scalars(select(Team).where(Team.name == "Northwind Weekend")).one()
    assert team.partner is not None
    assert team.partner.name == "Northwind BPO"


def test_login_error_is_shown_in_the_form(page: Any, make: Factory) -> None:
    make.user(Role.MANAGER, email="manager@example.org")
    page.goto("/login")
    page.get_by_label("Email").fill("manager@example.org")
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Invalid email or password.")


def test_partner_viewer_sees_only_own_teams(page: Any, make: Factory) -> None:
    northwind, lumen = make.partner("Northwind BPO"), make.partner("Lumen Outsourcing")
    make.team("Northwind Overflow", northwind)
    make.team("Lumen After-hours", lumen)
    viewer = make.user(Role.PARTNER_VIEWER, partner=northwind, email="viewer@example.org")
    log_in(page, viewer.email)
    page.get_by_role("link", name="Teams").click()
    table = page.get_by_test_id("teams-table")
    expect(table).to_contain_text("Northwind Overflow")
    expect(table).not_to_contain_text("Lumen After-hours")
    expect(page.get_by_role("link", name="Users")).to_have_count(0)
