"""In a real browser: the criterion form shows the fields of the chosen type and a live share."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from qa_app.org.roles import Role
from tests.conftest import PASSWORD, Factory
from tests.scorecards.helpers import build_draft

expect = pytest.importorskip("playwright.sync_api").expect


def test_criterion_form_follows_the_type_and_shows_the_weight_share(
    page: Any, make: Factory, db: Session
) -> None:
    manager = make.user(Role.MANAGER, email="manager@example.org")
    version = build_draft(db).versions[0]  # weights 3, 1, 1
    section = version.sections[0]
    page.goto("/login")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"/scorecards/{version.scorecard_id}/versions/1")
    page.locator(f"#section-{section.id}").get_by_role("link", name="Add criterion").click()
    expect(page.get_by_label("Scale points")).to_be_hidden()
    expect(page.get_by_label("Maximum points")).to_be_hidden()
    expect(page.locator("#weight-share")).to_have_text("16.7% of the version's total weight")

    page.get_by_label("Type").select_option(label="Rating scale")
    expect(page.get_by_label("Scale points")).to_be_visible()
    expect(page.get_by_label("Maximum points")).to_be_hidden()
    page.get_by_label("Weight").fill("5")
    expect(page.locator("#weight-share")).to_have_text("50.0% of the version's total weight")

    page.get_by_label("Title").fill("Empathy")
    page.get_by_label("Scale points").fill("3")
    page.get_by_label("Scale labels").fill("Cold\nNeutral\nWarm")
    page.get_by_role("button", name="Save criterion").click()
    expect(page.get_by_role("alert")).to_contain_text("Criterion Empathy saved.")
    expect(page.get_by_test_id("criterion-empathy")).to_contain_text("50.0%")
