"""The dashboard of reviewers, managers and partner users: what to do now, how things stand."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.conftest import Factory
from tests.main.world import LUMEN_SCORE, Office, figure, office


@pytest.fixture
def world(db: Session, make: Factory) -> Office:
    return office(db, make)


def test_reviewer_sees_queue_due_this_week_overdue_drafts_and_own_recent_reviews(
    world: Office, page_of: Any
) -> None:
    html = page_of(world.users["qa"])
    assert figure(html, "count-queue") == "5"
    assert figure(html, "queue-due-week") == "2 due this week"
    assert figure(html, "queue-overdue") == "1 overdue"
    assert "1 started" in figure(html, "todo-queue")
    assert figure(html, "count-unassigned") == "3"  # in-house staff see every partner's
    assert figure(html, "count-drafts") == "2"
    assert figure(html, "stat-my-submitted-30") == "3"  # 80, 90 and the disputed one
    assert 'href="/reviews/queue"' in html
    assert 'href="/reviews/queue?show=unassigned"' in html
    assert 'href="/reviews/?status=draft"' in html


def test_reviewer_without_oversight_sees_no_disputes_or_reveal(world: Office, page_of: Any) -> None:
    html = page_of(world.users["qa"])
    for key in ("todo-disputes", "todo-reveal", "todo-calibration-open", "stat-reviews-30"):
        assert f'data-testid="{key}"' not in html


@pytest.mark.parametrize(
    ("user", "queue", "overdue", "unassigned"),
    [("northwind_qa", "1", "0 overdue", "1"), ("lumen_qa", "2", "2 overdue", "1")],
)
def test_partner_qa_queue_counts_only_own_partner(
    world: Office, page_of: Any, user: str, queue: str, overdue: str, unassigned: str
) -> None:
    html = page_of(world.users[user])
    assert figure(html, "count-queue") == queue
    assert figure(html, "queue-overdue") == overdue
    assert figure(html, "count-unassigned") == unassigned


@pytest.mark.parametrize("user", ["manager", "admin"])
def test_manager_sees_open_disputes_oldest_first_with_its_age(
    world: Office, page_of: Any, user: str
) -> None:
    html = page_of(world.users[user])
    assert figure(html, "count-disputes") == "1"
    assert figure(html, "dispute-oldest-age") == "4 days ago"
    assert f'href="/reviews/disputes/{world.dispute.id}/resolve"' in html
    assert "Sam Inhouse" in figure(html, "todo-disputes")
    assert 'href="/reviews/?status=disputed"' in html


def test_manager_who_scored_the_disputed_review_is_sent_to_the_review_not_to_decide(
    world: Office, page_of: Any, db: Session
) -> None:
    world.disputed.reviewer_id = world.users["manager"].id
    db.commit()
    html = page_of(world.users["manager"])
    assert f'href="/reviews/{world.disputed.id}"' in html
    assert f"/reviews/disputes/{world.dispute.id}/resolve" not in html
    assert "another manager decides" in html


@pytest.mark.parametrize("user", ["manager", "admin"])
def test_manager_sees_reviews_of_the_last_30_days_and_their_average_beside_org_counts(
    world: Office, page_of: Any, user: str
) -> None:
    html = page_of(world.users[user])
    # Sam 80, 90, disputed 20; Maya 70; Leo 33.3 twice. The disputed score is not counted.
    assert figure(html, "stat-reviews-30") == "6"
    assert figure(html, "stat-average-30") == "61.3"  # (80 + 90 + 70 + 33.3 + 33.3) / 5
    assert figure(html, "note-average-30") == "of 5 scored reviews"
    assert figure(html, "stat-partners") == "2"
    assert figure(html, "stat-teams") == "3"
    assert figure(html, "stat-agents") == "3"
    for team in ("Tier 1 Chat", "Northwind Overflow", "Lumen After-hours"):
        assert team in html


def test_only_administrators_see_the_user_count(world: Office, page_of: Any) -> None:
    assert figure(page_of(world.users["admin"]), "stat-users") == str(len(world.users))
    assert 'data-testid="stat-users"' not in page_of(world.users["manager"])


@pytest.mark.parametrize(
    ("user", "reviews", "average", "teams"),
    [
        ("northwind_viewer", "1", "70.0", ["Northwind Overflow"]),
        ("northwind_qa", "1", "70.0", ["Northwind Overflow"]),
        ("lumen_viewer", "2", f"{LUMEN_SCORE:.1f}", ["Lumen After-hours"]),
    ],
)
def test_partner_users_see_their_partners_reviews_average_teams_and_agents(
    world: Office, page_of: Any, user: str, reviews: str, average: str, teams: list[str]
) -> None:
    html = page_of(world.users[user])
    assert figure(html, "stat-reviews-30") == reviews
    assert figure(html, "stat-average-30") == average
    assert figure(html, "stat-teams") == "1"
    assert figure(html, "stat-agents") == "1"
    for team in teams:
        assert team in html
    assert 'data-testid="stat-partners"' not in html


@pytest.mark.parametrize("user", ["northwind_viewer", "northwind_qa"])
def test_northwind_user_sees_no_lumen_figure_or_name(
    world: Office, page_of: Any, user: str
) -> None:
    html = page_of(world.users[user])
    for leaked in ("Lumen", "Leo Lumenson", f"{LUMEN_SCORE:.1f}", "Tier 1 Chat", "Sam Inhouse"):
        assert leaked not in html, leaked
    # The same world seen in-house does name Lumen: the page would show it if it leaked.
    assert "Lumen After-hours" in page_of(world.users["manager"])


def test_partner_viewer_has_nothing_to_do_and_sees_no_work_panel(
    world: Office, page_of: Any
) -> None:
    html = page_of(world.users["northwind_viewer"])
    assert 'id="todo-heading"' not in html
    assert 'data-testid="stat-my-submitted-30"' not in html
