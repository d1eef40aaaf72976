"""A dashboard with nothing yet says what will appear there, and when."""

from __future__ import annotations

from typing import Any

import pytest

from qa_app.org.roles import Role
from tests.conftest import Factory
from tests.main.world import figure

REVIEWER_EMPTY = {
    "empty-queue": "No assignments yet: they appear here when a sampling plan runs.",
    "empty-drafts": "No drafts",
}
MANAGER_EMPTY = {
    "empty-disputes": "No open disputes: when an agent disputes a review",
    "empty-reveal": "once every rater has submitted every conversation, or when it is due",
    "empty-calibration-open": "No open session",
}
RATER_EMPTY = {"empty-ratings-due": "a session you are invited to rate appears here"}
AGENT_EMPTY = {
    "empty-awaiting": "a review appears here when QA submits one",
    "empty-disputable": "you can dispute a submitted review",
    "empty-my-disputes": "a manager decides",
    "empty-latest": "they appear here once QA has scored one of your conversations",
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADMIN, {**REVIEWER_EMPTY, **MANAGER_EMPTY}),
        (Role.MANAGER, {**REVIEWER_EMPTY, **MANAGER_EMPTY, **RATER_EMPTY}),
        (Role.QA_SPECIALIST, {**REVIEWER_EMPTY, **RATER_EMPTY}),
        (Role.PARTNER_QA, {**REVIEWER_EMPTY, **RATER_EMPTY}),
        (Role.AGENT, AGENT_EMPTY),
    ],
)
def test_each_panel_without_data_says_what_will_appear_and_when(
    make: Factory, page_of: Any, role: Role, expected: dict[str, str]
) -> None:
    html = page_of(make.user(role))
    for key, text in expected.items():
        assert text in figure(html, key), key
    for count in [key.replace("empty-", "count-") for key in expected if key != "empty-latest"]:
        assert figure(html, count) == "0"


@pytest.mark.parametrize("role", [Role.PARTNER_VIEWER, Role.PARTNER_QA])
def test_partner_without_teams_or_reviews_says_when_they_appear(
    make: Factory, page_of: Any, role: Role
) -> None:
    html = page_of(make.user(role))
    assert "appear when an administrator adds your partner" in figure(html, "empty-teams")
    assert figure(html, "stat-reviews-30") == "0"
    assert figure(html, "note-reviews-30") == "They appear as QA submits reviews."
    assert figure(html, "stat-average-30") == "—"


def test_agent_not_linked_to_an_agent_is_told_so(make: Factory, page_of: Any, db: Any) -> None:
    user = make.user(Role.AGENT)
    user.agent_id = None
    db.commit()
    html = page_of(user)
    assert "not linked to an agent yet" in figure(html, "agent-unlinked")
    assert figure(html, "count-awaiting") == "0"
