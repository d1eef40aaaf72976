"""The read-side lookups of calibration pages: right figures, and a fixed number of queries."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration import queries, services
from qa_app.calibration.models import CalibrationSession, RatingStatus
from qa_app.db import utcnow
from qa_app.org.roles import Role
from qa_app.reviews.answers import ordered_criteria
from tests.calibration.factories import calibration_world, rate
from tests.conftest import Factory, login
from tests.reviews.factories import MIXED, PERFECT, Card, published_scorecard
from tests.statements import recorded_statements


def count_queries(app: Flask) -> AbstractContextManager[list[str]]:
    return recorded_statements(app.extensions["qa_db_engine"])


def test_session_counts_per_session_and_for_the_user(db: Session, make: Factory) -> None:
    world = calibration_world(db, make)
    qa, first = world.users["qa"], world.conversations[0]
    rate(db, world, qa, first)
    rate(db, world, qa, world.conversations[1], submit=False)
    other = make.user(Role.QA_SPECIALIST)
    counts = queries.session_counts(db, [world.calibration.id], qa.id)
    assert counts.items == {world.calibration.id: 2}
    assert counts.raters == {world.calibration.id: 3}
    assert counts.submitted == {world.calibration.id: 1}  # the draft does not count
    assert counts.rating_in == {world.calibration.id}
    assert queries.session_counts(db, [world.calibration.id], other.id).rating_in == set()
    assert queries.session_counts(db, [], qa.id) == queries.SessionCounts({}, {}, {}, set())
    assert queries.rating_statuses(db, world.calibration, qa.id) == {
        first.id: RatingStatus.SUBMITTED,
        world.conversations[1].id: RatingStatus.DRAFT,
    }


def test_side_by_side_lines_up_raters_benchmark_and_criteria(db: Session, make: Factory) -> None:
    world = calibration_world(db, make)
    qa, northwind, lumen = world.raters
    first = world.conversations[0]
    rate(db, world, qa, first, PERFECT)
    rate(db, world, northwind, first, MIXED)
    rate(db, world, lumen, first, PERFECT, submit=False)  # a draft is never shown
    calibration = world.calibration
    criteria = ordered_criteria(calibration.scorecard_version)
    assert queries.side_by_side(db, calibration, criteria, calibration.raters) == []  # blind
    services.save_benchmark(
        db, calibration, first.id, world.card.answers(PERFECT), by=world.users["manager"]
    )
    calibration.due_at = utcnow() - timedelta(minutes=1)
    db.commit()
    services.reveal(db, calibration, by=world.users["manager"])
    db.commit()
    assert queries.benchmarked_conversations(db, calibration) == {first.id}
    comparisons = queries.side_by_side(db, calibration, criteria, calibration.raters)
    assert [c.item.conversation_id for c in comparisons] == [c.id for c in world.conversations]
    row = comparisons[0]
    assert [rating is not None for rating in row.ratings] == [True, True, False]
    assert row.benchmark is not None
    greeting = next(r for r in row.rows if r.criterion.key == "greeting")
    assert [a.value if a else None for a in greeting.answers] == [
        PERFECT["greeting"],
        MIXED["greeting"],
        None,
    ]
    assert greeting.benchmark is not None
    assert greeting.benchmark.value == PERFECT["greeting"]
    assert comparisons[1].ratings == [None, None, None]


def revealed_session(db: Session, make: Factory, raters: list[User]) -> CalibrationSession:
    """A revealed session on two conversations that every rater submitted."""
    card = calibration_world_card(db)
    agent = make.agent(make.team(), name="Sam")
    conversations = [make.conversation(agent) for _ in range(2)]
    manager = make.user(Role.MANAGER)
    calibration = services.create_session(
        db,
        services.SessionInput(
            title="Counted",
            scorecard_version_id=card.version.id,
            conversation_ids=[conversation.id for conversation in conversations],
            rater_ids=[rater.id for rater in raters],
            due_at=utcnow() + timedelta(days=7),
        ),
        by=manager,
    )
    for rater in raters:
        for conversation in conversations:
            services.save_rating(
                db, calibration, conversation.id, card.answers(PERFECT), by=rater, submit=True
            )
    services.reveal(db, calibration, by=manager)
    services.add_note(db, calibration, "Say the name.", by=raters[0])
    db.commit()
    return calibration


def calibration_world_card(db: Session) -> Card:
    return published_scorecard(db, name=f"Card {utcnow().timestamp()}")


def test_session_page_costs_the_same_queries_whatever_the_number_of_raters(
    app: Flask, db: Session, make: Factory
) -> None:
    northwind = make.partner("Northwind")
    viewer = make.user(Role.ADMIN)

    def raters(count: int) -> list[User]:
        return [
            make.user(Role.PARTNER_QA, partner=northwind)
            if n % 2
            else make.user(Role.QA_SPECIALIST)
            for n in range(count)
        ]

    few = revealed_session(db, make, raters(2))
    many = revealed_session(db, make, raters(8))
    client = app.test_client()
    login(client, viewer)

    def cost(calibration: CalibrationSession) -> int:
        with count_queries(app) as statements:
            response = client.get(f"/calibration/{calibration.id}")
        assert response.status_code == 200
        return len(statements)

    cost(few)  # warm: the first request loads the user and settings
    assert cost(many) == cost(few)

    def list_cost() -> int:
        with count_queries(app) as statements:
            assert client.get("/calibration/").status_code == 200
        return len(statements)

    before = list_cost()
    revealed_session(db, make, raters(3))
    assert list_cost() == before
