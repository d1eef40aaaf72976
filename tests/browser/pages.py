"""Steps the browser journeys share."""

from __future__ import annotations

from typing import Any

from tests.conftest import PASSWORD


def log_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def nav_link(page: Any, name: str) -> Any:
    """A link of the main navigation bar (the dashboard links to the same pages)."""
    return page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name=name, exact=True
    )
