"""Calibration on the dashboard: sessions ready to reveal, waiting for ratings, ratings due."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from qa_app.calibration import services
from qa_app.db import utcnow
from tests.calibration.factories import CalibrationWorld, calibration_world, rate
from tests.conftest import Factory
from tests.main.world import figure


@pytest.fixture
def world(db: Session, make: Factory) -> CalibrationWorld:
    """A blind session of two conversations, rated by qa, Northwind QA and Lumen QA."""
    return calibration_world(db, make)


def session_link(world: CalibrationWorld) -> str:
    return f'href="/calibration/{world.calibration.id}"'


def test_facilitator_sees_an_open_session_waiting_for_ratings_with_its_progress(
    world: CalibrationWorld, page_of: Any, db: Session
) -> None:
    rate(db, world, world.users["qa"], world.conversations[0])
    rate(db, world, world.users["northwind_qa"], world.conversations[0], submit=False)
    html = page_of(world.users["manager"])
    assert figure(html, "count-reveal") == "0"
    assert figure(html, "count-calibration-open") == "1"
    line = figure(html, f"calibration-open-{world.calibration.id}")
    assert "1 of 6 ratings in" in line  # a draft does not count
    assert session_link(world) in html


@pytest.mark.parametrize("user", ["manager", "admin"])
def test_session_with_every_rating_in_is_ready_to_reveal(
    world: CalibrationWorld, page_of: Any, db: Session, user: str
) -> None:
    for rater in world.raters:
        for conversation in world.conversations:
            rate(db, world, rater, conversation)
    assert services.reveal_refusal(db, world.calibration) is None
    html = page_of(world.users[user])
    assert figure(html, "count-reveal") == "1"
    assert figure(html, "count-calibration-open") == "0"
    assert "6 of 6 ratings in" in figure(html, f"reveal-{world.calibration.id}")


def test_session_past_its_due_date_is_ready_to_reveal_without_every_rating(
    world: CalibrationWorld, page_of: Any, db: Session
) -> None:
    world.calibration.due_at = utcnow() - timedelta(hours=1)
    db.commit()
    assert figure(page_of(world.users["manager"]), "count-reveal") == "1"


def test_revealed_session_leaves_the_dashboard(
    world: CalibrationWorld, page_of: Any, db: Session
) -> None:
    for rater in world.raters:
        for conversation in world.conversations:
            rate(db, world, rater, conversation)
    services.reveal(db, world.calibration, by=world.users["manager"])
    db.commit()
    html = page_of(world.users["manager"])
    assert figure(html, "count-reveal") == "0"
    assert figure(html, "count-calibration-open") == "0"
    assert 'data-testid="empty-reveal"' in html


@pytest.mark.parametrize("rater", ["qa", "northwind_qa", "lumen_qa"])
def test_rater_sees_the_session_while_ratings_are_due_and_not_after(
    world: CalibrationWorld, page_of: Any, db: Session, rater: str
) -> None:
    user = world.users[rater]
    rate(db, world, user, world.conversations[0])
    html = page_of(user)
    assert figure(html, "count-ratings-due") == "1"
    assert "you have submitted 1 of 2" in figure(html, f"ratings-due-{world.calibration.id}")
    assert session_link(world) in html
    rate(db, world, user, world.conversations[1])
    html = page_of(user)
    assert figure(html, "count-ratings-due") == "0"
    assert 'data-testid="empty-ratings-due"' in html


def test_partner_rater_sees_only_own_progress_never_the_other_raters(
    world: CalibrationWorld, page_of: Any, db: Session
) -> None:
    rate(db, world, world.users["lumen_qa"], world.conversations[0])
    html = page_of(world.users["northwind_qa"])
    assert "ratings in" not in html
    assert "Lumen" not in html
    assert 'data-testid="todo-reveal"' not in html


@pytest.mark.parametrize("user", ["other_qa", "acme_qa", "northwind_viewer", "agent"])
def test_users_who_do_not_rate_in_the_session_do_not_see_it(
    world: CalibrationWorld, page_of: Any, user: str
) -> None:
    assert world.calibration.title not in page_of(world.users[user])


def test_manager_who_rates_sees_own_ratings_due_beside_the_facilitators_view(
    world: CalibrationWorld, page_of: Any, db: Session, make: Factory
) -> None:
    manager, qa = world.users["manager"], world.users["qa"]
    second = services.create_session(
        db,
        services.SessionInput(
            title="Escalations check-in",
            scorecard_version_id=world.card.version.id,
            conversation_ids=[conversation.id for conversation in world.conversations],
            rater_ids=[manager.id, qa.id],
            due_at=utcnow() + timedelta(days=3),
        ),
        by=world.users["admin"],
    )
    db.commit()
    html = page_of(manager)
    assert figure(html, "count-calibration-open") == "2"
    assert figure(html, "count-ratings-due") == "1"
    assert "you have submitted 0 of 2" in figure(html, f"ratings-due-{second.id}")
    assert f'data-testid="ratings-due-{world.calibration.id}"' not in html
    assert 'data-testid="todo-ratings-due"' not in page_of(world.users["admin"])
