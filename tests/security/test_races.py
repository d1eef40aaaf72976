"""Two first saves at once: a double click, two API calls. Neither may answer 500.

Every "get or create" of the app (calibration ratings and benchmarks, review drafts, the review
of an assignment, a month's scheduled session, partners and teams made by an import) goes
through qa_app/concurrency.py: the row is read under a lock, and a new row is inserted inside a
SAVEPOINT, so the loser of a race loads the winner's row instead of failing on the unique
constraint.

The concurrent tests fire requests from two threads released together by a barrier, each with
its own test client (so its own database session and connection), for several rounds, and
check there is no 500 and exactly one row. They run on PostgreSQL and on SQLite (whose writers
queue on the database lock). The recovery path is also tested deterministically on both: the
row is created through another session between the lookup and the insert.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration import rating as calibration_rating
from qa_app.calibration import services as calibration
from qa_app.calibration.models import (
    CalibrationAnswer,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
)
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.org import services as org
from qa_app.org.models import Partner
from qa_app.org.roles import Role
from qa_app.reviews import drafts
from qa_app.reviews import services as reviews
from qa_app.reviews.models import Review, ReviewAnswer, ReviewStatus
from tests.conftest import Factory, bearer, login
from tests.reviews.factories import PERFECT, Card, assignment, published_scorecard

ROUNDS = 4
ANSWERS_JSON = {"greeting": "yes", "empathy": 4, "accuracy": 3, "identity": "yes"}


@dataclass
class World:
    card: Card
    calibration: CalibrationSession
    conversations: list[Conversation]
    users: dict[str, User]


@pytest.fixture
def world(db: Session, make: Factory) -> World:
    """An open calibration session of ROUNDS in-house conversations rated by two QA
    specialists; two managers facilitate."""
    users = {
        "qa": make.user(Role.QA_SPECIALIST),
        "qa2": make.user(Role.QA_SPECIALIST),
        "manager": make.user(Role.MANAGER),
        "manager2": make.user(Role.MANAGER),
    }
    agent = make.agent(make.team("Tier 1"))
    conversations = [make.conversation(agent) for _ in range(ROUNDS)]
    card = published_scorecard(db, name="Race scorecard")
    session = calibration.create_session(
        db,
        calibration.SessionInput(
            title="Race calibration",
            scorecard_version_id=card.version.id,
            conversation_ids=[conversation.id for conversation in conversations],
            rater_ids=[users["qa"].id, users["qa2"].id],
            due_at=utcnow() + timedelta(days=7),
        ),
        by=users["manager"],
    )
    db.commit()
    return World(card, session, conversations, users)


def logged_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment, one thread each; their results (exceptions fail)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as error:  # noqa: BLE001  (reported by the test below)
            errors.append(error)

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


def post_together(
    clients: list[FlaskClient],
    url: str,
    headers: list[dict[str, str]] | None = None,
    **kwargs: Any,
) -> list[Any]:
    """The same POST from every client at the same moment."""
    heads: list[Any] = headers or [None] * len(clients)
    return race(
        *(partial(c.post, url, headers=h, **kwargs) for c, h in zip(clients, heads, strict=True))
    )


def statuses(responses: list[Any]) -> list[int]:
    codes = sorted(response.status_code for response in responses)
    assert 500 not in codes, [response.get_data(as_text=True)[:500] for response in responses]
    return codes


def count(db: Session, model: Any, *where: Any) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where)) or 0


def ratings_of(db: Session, world: World, conversation: Conversation, user: User | None) -> int:
    who = (
        CalibrationRating.is_benchmark.is_(True)
        if user is None
        else (CalibrationRating.rater_id == user.id)
    )
    return count(
        db,
        CalibrationRating,
        CalibrationRating.session_id == world.calibration.id,
        CalibrationRating.conversation_id == conversation.id,
        who,
    )


def rate_url(world: World, conversation: Conversation, what: str = "rate") -> str:
    return f"/calibration/{world.calibration.id}/conversations/{conversation.id}/{what}"


def form(card: Card, values: dict[str, str], **extra: str) -> dict[str, str]:
    return {**{f"answer_{card.criteria[key].id}": value for key, value in values.items()}, **extra}


# Concurrent requests -----------------------------------------------------------------------------


def test_two_first_saves_of_a_calibration_rating_through_the_api(
    app: Flask, db: Session, world: World
) -> None:
    headers = [bearer(db, world.users["qa"]), bearer(db, world.users["qa"])]
    url = f"/api/v1/calibration/sessions/{world.calibration.id}/ratings"
    for conversation in world.conversations:
        body = {"conversation_id": conversation.id, "answers": ANSWERS_JSON, "submit": True}
        clients = [app.test_client(), app.test_client()]
        responses = post_together(clients, url, headers, json=body)
        assert statuses(responses) == [200, 201]  # the second saved onto the first's rating
        assert all(response.get_json()["status"] == "submitted" for response in responses)
        assert ratings_of(db, world, conversation, world.users["qa"]) == 1
    assert count(db, CalibrationAnswer) == ROUNDS * len(world.card.criteria)


def test_a_double_click_on_the_rating_form(app: Flask, db: Session, world: World) -> None:
    clients = [logged_in(app, world.users["qa"]), logged_in(app, world.users["qa"])]
    data = form(world.card, PERFECT, submit="Submit rating")
    for conversation in world.conversations:
        url = rate_url(world, conversation)
        responses = post_together(clients, url, data=data)
        assert statuses(responses) == [302, 302]
        assert ratings_of(db, world, conversation, world.users["qa"]) == 1
    ratings = db.scalars(select(CalibrationRating)).all()
    assert {rating.status for rating in ratings} == {RatingStatus.SUBMITTED}


def test_two_facilitators_save_the_same_benchmark(app: Flask, db: Session, world: World) -> None:
    clients = [logged_in(app, world.users["manager"]), logged_in(app, world.users["manager2"])]
    data = form(world.card, PERFECT, submit="Save benchmark")
    for conversation in world.conversations:
        url = rate_url(world, conversation, "benchmark")
        responses = post_together(clients, url, data=data)
        assert statuses(responses) == [302, 302]
        assert ratings_of(db, world, conversation, None) == 1


def test_two_api_calls_start_the_same_review(
    app: Flask, db: Session, world: World, make: Factory
) -> None:
    reviewer = world.users["qa"]
    headers = [bearer(db, reviewer), bearer(db, reviewer)]
    agent = make.agent(make.team("Tier 2"))
    for _ in range(ROUNDS):
        conversation = make.conversation(agent)
        body = {
            "conversation_id": conversation.id,
            "scorecard_id": world.card.scorecard.id,
            "answers": {"greeting": "yes"},
        }
        clients = [app.test_client(), app.test_client()]
        responses = post_together(clients, "/api/v1/reviews", headers, json=body)
        assert set(statuses(responses)) <= {200, 201}
        assert len({response.get_json()["id"] for response in responses}) == 1
        assert count(db, Review, Review.conversation_id == conversation.id) == 1
        assert count(db, ReviewAnswer) == count(db, Review)  # one greeting answer per draft


def test_a_double_click_on_start_review_of_an_assignment(
    app: Flask, db: Session, world: World, make: Factory
) -> None:
    clients = [logged_in(app, world.users["qa"]), logged_in(app, world.users["qa"])]
    agent = make.agent(make.team("Tier 2"))
    for _ in range(ROUNDS):
        work = assignment(db, make.conversation(agent), world.card)  # unassigned: first come
        url = f"/reviews/assignments/{work.id}/start"
        responses = post_together(clients, url)
        assert statuses(responses) == [302, 302]
        assert {r.headers["Location"] for r in responses} == {responses[0].headers["Location"]}
        assert count(db, Review, Review.assignment_id == work.id) == 1


def test_two_reviewers_take_the_same_unassigned_assignment(
    app: Flask, db: Session, world: World, make: Factory
) -> None:
    clients = [logged_in(app, world.users["qa"]), logged_in(app, world.users["qa2"])]
    agent = make.agent(make.team("Tier 2"))
    for _ in range(ROUNDS):
        work = assignment(db, make.conversation(agent), world.card)
        url = f"/reviews/assignments/{work.id}/start"
        responses = post_together(clients, url)
        assert statuses(responses) == [302, 302]  # one scores it, the other is told why not
        assert count(db, Review, Review.assignment_id == work.id) == 1


# The recovery path, deterministically: the row appears between the lookup and the insert --------


def test_a_rating_created_meanwhile_is_saved_onto(
    client: FlaskClient, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation, qa = world.conversations[0], world.users["qa"]
    real = calibration_rating.rating_of
    raced: list[int] = []

    def racing(session: Session, *args: Any, lock: bool = False) -> Any:
        if lock and not raced:  # another request saves first, after our lookup
            raced.append(1)
            other = CalibrationRating(
                session_id=world.calibration.id, conversation_id=conversation.id, rater_id=qa.id
            )
            db.add(other)
            db.commit()
            return None
        return real(session, *args, lock=lock)

    monkeypatch.setattr(calibration_rating, "rating_of", racing)
    response = client.post(
        f"/api/v1/calibration/sessions/{world.calibration.id}/ratings",
        json={"conversation_id": conversation.id, "answers": ANSWERS_JSON, "submit": True},
        headers=bearer(db, qa),
    )
    assert raced
    assert response.status_code == 200, response.get_json()  # not created by this request
    assert response.get_json()["score"] == 100.0
    assert ratings_of(db, world, conversation, qa) == 1
    assert count(db, CalibrationAnswer) == len(world.card.criteria)


def test_a_benchmark_created_meanwhile_is_saved_onto(
    app: Flask, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation = world.conversations[0]
    real = calibration_rating.rating_of
    raced: list[int] = []

    def racing(session: Session, *args: Any, lock: bool = False) -> Any:
        if lock and not raced:
            raced.append(1)
            calibration.save_benchmark(
                db,
                world.calibration,
                conversation.id,
                world.card.answers(PERFECT),
                by=world.users["manager2"],
            )
            db.commit()
            return None
        return real(session, *args, lock=lock)

    monkeypatch.setattr(calibration_rating, "rating_of", racing)
    mine: Session = app.extensions["qa_db_sessionmaker"]()
    try:
        session = mine.get(CalibrationSession, world.calibration.id)
        answers = world.card.answers({**PERFECT, "greeting": "no"})
        saved = calibration.save_benchmark(
            mine, session, conversation.id, answers, by=world.users["manager"]
        )
        mine.commit()
        assert saved.score is not None
    finally:
        mine.close()
    assert raced
    assert ratings_of(db, world, conversation, None) == 1
    greeting = db.scalar(
        select(CalibrationAnswer.value).where(
            CalibrationAnswer.criterion_id == world.card.criteria["greeting"].id
        )
    )
    assert greeting == "no"  # the later save won, onto the one row


def test_a_draft_started_meanwhile_is_continued(
    client: FlaskClient,
    db: Session,
    world: World,
    make: Factory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reviewer = world.users["qa"]
    conversation = make.conversation(make.agent(make.team("Tier 2")))
    real = drafts.draft_of
    raced: list[int] = []

    def racing(session: Session, who: User, conversation_id: int) -> Any:
        if not raced:
            raced.append(1)
            theirs = db.get(Conversation, conversation_id)
            reviews.start_review(db, theirs, db.get(User, who.id), version=world.card.version)
            db.commit()
            return None
        return real(session, who, conversation_id)

    monkeypatch.setattr(drafts, "draft_of", racing)
    response = client.post(
        "/api/v1/reviews",
        json={
            "conversation_id": conversation.id,
            "scorecard_id": world.card.scorecard.id,
            "answers": {"greeting": "no"},
        },
        headers=bearer(db, reviewer),
    )
    assert raced
    assert response.status_code in (200, 201), response.get_json()
    drafts_made = db.scalars(select(Review).where(Review.conversation_id == conversation.id)).all()
    assert len(drafts_made) == 1
    assert drafts_made[0].status == ReviewStatus.DRAFT
    assert response.get_json()["id"] == drafts_made[0].id
    assert [answer.value for answer in drafts_made[0].answers] == ["no"]


def test_a_month_scheduled_meanwhile_is_refused_cleanly(
    app: Flask, db: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = calibration.check_conversations_for_raters
    data = calibration.SessionInput(
        title="December",
        scorecard_version_id=world.card.version.id,
        conversation_ids=[world.conversations[0].id],
        rater_ids=[world.users["qa"].id, world.users["qa2"].id],
        due_at=utcnow() + timedelta(days=3),
        series_key="1:2026-12",
    )

    def racing(session: Session, *args: Any) -> None:
        monkeypatch.setattr(calibration, "check_conversations_for_raters", real)
        calibration.create_session(db, data, by=db.get(User, world.users["manager"].id))
        db.commit()  # the other scheduler, after our check for the month
        real(session, *args)

    monkeypatch.setattr(calibration, "check_conversations_for_raters", racing)
    mine: Session = app.extensions["qa_db_sessionmaker"]()
    try:
        with pytest.raises(calibration.CalibrationError, match="already has a session"):
            calibration.create_session(mine, data, by=mine.get(User, world.users["manager"].id))
        mine.rollback()
    finally:
        mine.close()
    series = CalibrationSession.series_key == "1:2026-12"
    assert count(db, CalibrationSession, series) == 1


def test_a_partner_created_meanwhile_by_another_import_is_reused(
    app: Flask, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = org._by_name
    raced: list[int] = []

    def racing(name: str, model: Any) -> Any:
        if model is Partner and not raced:
            raced.append(1)
            db.add(Partner(name="Acme"))
            db.commit()
            return real("no such partner", model)
        return real(name, model)

    monkeypatch.setattr(org, "_by_name", racing)
    mine: Session = app.extensions["qa_db_sessionmaker"]()
    try:
        partner = org.get_or_create_partner(mine, "Acme")
        team = org.get_or_create_team(mine, "Acme team", partner)
        mine.commit()
        assert team.partner_id == partner.id
    finally:
        mine.close()
    assert raced
    assert count(db, Partner) == 1
