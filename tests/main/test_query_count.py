"""The dashboard costs a handful of queries, whatever the amount of work and data behind it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from qa_app.calibration import services as calibration
from qa_app.db import utcnow
from qa_app.reviews import services
from tests.conftest import Factory, login
from tests.main.world import Office, days_ago, due_this_week, office
from tests.reviews.factories import assignment, scored_review
from tests.statements import recorded_statements

# The user's own row, then one query per panel at most (the agent: 3, a manager: 7).
MOST_STATEMENTS = 8
USERS = ["admin", "manager", "qa", "northwind_qa", "northwind_viewer", "sam"]


def add_work(db: Session, make: Factory, world: Office, rounds: int) -> None:
    """More of everything each dashboard counts or lists: assignments, reviews, disputes,
    calibration sessions with ratings."""
    users, card = world.users, world.card
    sam, maya = world.agents["sam"], world.agents["maya"]
    for _ in range(rounds):
        assignment(db, make.conversation(sam), card, users["qa"], due_at=due_this_week())
        assignment(db, make.conversation(maya), card, users["northwind_qa"], due_at=days_ago(1))
        for agent, reviewer in ((sam, users["qa"]), (maya, users["northwind_qa"])):
            scored_review(
                db, card, make.conversation(agent), reviewer, 75, submitted_at=days_ago(2)
            )
        disputed = scored_review(db, card, make.conversation(sam), users["qa"], 60)
        services.dispute(db, disputed, "Not fair.", by=users["sam"])
        conversations = [make.conversation(sam).id for _ in range(2)]
        session = calibration.create_session(
            db,
            calibration.SessionInput(
                title=f"Session {make.counter}",
                scorecard_version_id=card.version.id,
                conversation_ids=conversations,
                rater_ids=[users["qa"].id, users["northwind_qa"].id, users["manager"].id],
                due_at=utcnow() + timedelta(days=3),
            ),
            by=users["admin"],
        )
        calibration.save_rating(
            db, session, conversations[0], card.answers({"greeting": "yes"}), by=users["qa"]
        )
    db.commit()


def statements_of(app: Flask, user: Any) -> list[str]:
    client: FlaskClient = app.test_client()
    login(client, user)
    with recorded_statements(app.extensions["qa_db_engine"]) as sent:
        response = client.get("/")
    assert response.status_code == 200
    return list(sent)


@pytest.mark.parametrize("user", USERS)
def test_dashboard_runs_the_same_few_queries_for_a_little_or_a_lot_of_work(
    app: Flask, db: Session, make: Factory, user: str
) -> None:
    world = office(db, make)
    add_work(db, make, world, 1)
    little = statements_of(app, world.users[user])
    add_work(db, make, world, 6)
    a_lot = statements_of(app, world.users[user])
    assert len(a_lot) == len(little), "\n".join(a_lot)
    assert len(a_lot) <= MOST_STATEMENTS, "\n".join(a_lot)
