"""/api/v1/reviews: listing and reading in scope, and scoring through the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.org.models import Agent
from qa_app.org.roles import Role
from qa_app.reviews import services
from qa_app.reviews.models import Review
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from tests.conftest import Factory, bearer, login
from tests.reviews.factories import (
    MIXED_SCORE,
    Card,
    assignment,
    published_scorecard,
    scored_review,
    submitted_review,
)

MIXED_JSON = {"greeting": "no", "empathy": 3, "accuracy": 2, "identity": "yes"}


@dataclass
class World:
    card: Card
    maya: Agent
    sam: Agent
    conversation: Conversation
    users: dict[str, User]


@pytest.fixture
def world(make: Factory, db: Session) -> World:
    northwind = make.partner("Northwind")
    maya = make.agent(make.team("Northwind Chat", northwind), name="Maya")
    sam = make.agent(make.team("Tier 1"), name="Sam")
    users = {
        "qa": make.user(Role.QA_SPECIALIST),
        "manager": make.user(Role.MANAGER),
        "maya": make.user(Role.AGENT, agent=maya),
        "northwind_viewer": make.user(Role.PARTNER_VIEWER, partner=northwind),
        "northwind_qa": make.user(Role.PARTNER_QA, partner=northwind),
        "lumen_qa": make.user(Role.PARTNER_QA, partner=make.partner("Lumen")),
    }
    return World(published_scorecard(db), maya, sam, make.conversation(maya), users)


def ids(response: Any) -> set[int]:
    assert response.status_code == 200, response.get_json()
    return {item["id"] for item in response.get_json()["items"]}


# Reading ---------------------------------------------------------------------------------------


@pytest.fixture
def reviews(world: World, db: Session, make: Factory) -> dict[str, Review]:
    qa = world.users["qa"]
    maya = submitted_review(db, world.card, world.conversation, qa, comments={"empathy": "Kind"})
    sam = scored_review(db, world.card, make.conversation(world.sam), qa, 55.0)
    draft = services.start_review(db, make.conversation(world.maya), qa, version=world.card.version)
    db.commit()
    return {"maya": maya, "sam": sam, "draft": draft}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("qa", {"maya", "sam", "draft"}),
        ("manager", {"maya", "sam"}),
        ("maya", {"maya"}),
        ("northwind_viewer", {"maya"}),
        ("northwind_qa", {"maya"}),
        ("lumen_qa", set()),
    ],
)
def test_list_and_fetch_in_scope(
    client: FlaskClient,
    db: Session,
    world: World,
    reviews: dict[str, Review],
    user: str,
    expected: set[str],
) -> None:
    headers = bearer(db, world.users[user])
    assert ids(client.get("/api/v1/reviews", headers=headers)) == {
        reviews[name].id for name in expected
    }
    for name, review in reviews.items():
        status = client.get(f"/api/v1/reviews/{review.id}", headers=headers).status_code
        assert status == (200 if name in expected else 404), name


def test_a_review_in_full(
    client: FlaskClient, db: Session, world: World, reviews: dict[str, Review]
) -> None:
    review = reviews["maya"]
    services.dispute(db, db.get(Review, review.id), "Too harsh", by=world.users["maya"])
    db.commit()
    body = client.get(f"/api/v1/reviews/{review.id}", headers=bearer(db, world.users["maya"]))
    data = body.get_json()
    assert data["status"] == "disputed"
    assert data["score"] == 100.0
    assert data["agent"]["name"] == "Maya"
    assert data["team"] == {"id": world.maya.team_id, "name": "Northwind Chat"}
    assert data["scorecard"]["name"] == "Support QA"
    assert data["section_scores"] == {"Opening": 100.0, "Resolution": 100.0}
    assert [(a["criterion"], a["value"], a["comment"]) for a in data["answers"]] == [
        ("greeting", "yes", ""),
        ("empathy", 4, "Kind"),
        ("accuracy", 3, ""),
        ("identity", "yes", ""),
    ]
    assert data["disputes"][0]["reason"] == "Too harsh"
    assert data["disputes"][0]["outcome"] is None
    assert body.headers["Cache-Control"] == "no-store"


def test_list_filters_and_pages(
    client: FlaskClient, db: Session, world: World, make: Factory
) -> None:
    qa = world.users["qa"]
    old = datetime(2026, 1, 10, 12, tzinfo=UTC)
    made = [
        scored_review(
            db,
            world.card,
            make.conversation(world.maya),
            qa,
            float(score),
            submitted_at=old + timedelta(days=score),
        )
        for score in range(40, 100, 10)
    ]
    headers = bearer(db, world.users["manager"])
    assert ids(client.get("/api/v1/reviews?score_min=55&score_max=80", headers=headers)) == {
        made[2].id,
        made[3].id,
        made[4].id,
    }
    # Submitted 10 January + score days: 50 -> 1 March, 80 -> 31 March ("to" takes the whole day).
    window = "from=2026-03-01&to=2026-03-31"
    assert ids(client.get(f"/api/v1/reviews?{window}", headers=headers)) == {
        made[1].id,
        made[2].id,
        made[3].id,
        made[4].id,
    }
    assert ids(client.get(f"/api/v1/reviews?agent_id={world.sam.id}", headers=headers)) == set()
    first = client.get("/api/v1/reviews?per_page=4", headers=headers).get_json()
    assert (len(first["items"]), first["total"]) == (4, 6)
    assert [item["score"] for item in first["items"]] == [90.0, 80.0, 70.0, 60.0]  # newest first
    second = client.get(first["next"], headers=headers).get_json()
    assert [item["score"] for item in second["items"]] == [50.0, 40.0]
    assert second["next"] is None
    bad = client.get("/api/v1/reviews?score_min=high", headers=headers)
    assert bad.status_code == 400
    assert "score_min" in bad.get_json()["error"]["message"]
    assert client.get("/api/v1/reviews?status=lost", headers=headers).status_code == 400


def test_the_api_takes_only_bearer_tokens(
    client: FlaskClient, world: World, reviews: dict[str, Review]
) -> None:
    login(client, world.users["manager"])
    assert client.get("/api/v1/reviews").status_code == 401
    response = client.post("/api/v1/reviews", json={"conversation_id": world.conversation.id})
    assert response.status_code == 401


# Scoring ---------------------------------------------------------------------------------------


def post(client: FlaskClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/api/v1/reviews", json=body, headers=headers)


def review_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Review)) or 0


@pytest.mark.parametrize("role", [Role.AGENT, Role.PARTNER_VIEWER])
def test_only_reviewer_roles_score(
    client: FlaskClient, db: Session, world: World, make: Factory, role: Role
) -> None:
    user = world.users["maya"] if role == Role.AGENT else world.users["northwind_viewer"]
    response = post(client, bearer(db, user), conversation_id=world.conversation.id)
    assert response.status_code == 403


def test_score_and_submit_in_one_request(client: FlaskClient, db: Session, world: World) -> None:
    headers = bearer(db, world.users["northwind_qa"])
    response = post(
        client,
        headers,
        conversation_id=world.conversation.id,
        answers=MIXED_JSON,
        comments={"greeting": "No greeting at all"},
        overall_comment="Solid otherwise.",
        submit=True,
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()
    assert data["status"] == "submitted"
    assert data["score"] == pytest.approx(MIXED_SCORE)
    assert data["overall_comment"] == "Solid otherwise."
    assert data["answers"][0] == {
        "criterion": "greeting",
        "title": "Greets the customer",
        "section": "Opening",
        "value": "no",
        "comment": "No greeting at all",
    }
    assert response.headers["Location"].endswith(f"/api/v1/reviews/{data['id']}")
    review = db.get(Review, data["id"])
    assert review.reviewer_id == world.users["northwind_qa"].id


def test_a_draft_then_the_rest_and_submit(client: FlaskClient, db: Session, world: World) -> None:
    headers = bearer(db, world.users["qa"])
    work = assignment(db, world.conversation, world.card, world.users["qa"])
    first = post(
        client,
        headers,
        conversation_id=world.conversation.id,
        answers={"greeting": "yes", "empathy": 4},
    )
    assert first.status_code == 201
    assert first.get_json()["status"] == "draft"
    second = post(
        client,
        headers,
        conversation_id=world.conversation.id,
        answers={"accuracy": 3, "identity": "na"},
        submit=True,
    )
    assert second.status_code == 200
    data = second.get_json()
    assert data["id"] == first.get_json()["id"]
    assert (data["status"], data["score"]) == ("submitted", 100.0)
    db.expire_all()
    assert db.get(ReviewAssignment, work.id).status == AssignmentStatus.DONE
    assert db.get(Review, data["id"]).assignment_id == work.id


def test_submit_names_every_missing_answer_and_saves_nothing(
    client: FlaskClient, db: Session, world: World
) -> None:
    response = post(
        client,
        bearer(db, world.users["qa"]),
        conversation_id=world.conversation.id,
        answers={"greeting": "yes"},
        submit=True,
    )
    assert response.status_code == 422
    errors = response.get_json()["error"]["errors"]
    assert errors == [
        {"field": "answers.empathy", "message": "is required to submit"},
        {"field": "answers.accuracy", "message": "is required to submit"},
        {"field": "answers.identity", "message": "is required to submit"},
    ]
    assert review_count(db) == 0


def test_invalid_bodies_list_precise_errors(client: FlaskClient, db: Session, world: World) -> None:
    headers = bearer(db, world.users["qa"])
    response = post(
        client,
        headers,
        conversation_id=world.conversation.id,
        answers={"greeting": "sure", "empathy": 9, "accuracy": "2", "speed": 1},
        comments={"identity": 7},
    )
    assert response.status_code == 422
    problems = {e["field"]: e["message"] for e in response.get_json()["error"]["errors"]}
    assert problems == {
        "answers.accuracy": "must be a whole number",
        "answers.empathy": "rate from 1 to 4, got 9",
        "answers.greeting": "answer yes or no, got 'sure'",
        "answers.speed": "is not a criterion of this scorecard version",
        "comments.identity": "must be text of at most 5000 characters",
    }
    shape = post(client, headers, conversation_id=True, answers=[], submit="yes", colour="red")
    fields = [e["field"] for e in shape.get_json()["error"]["errors"]]
    assert fields == ["colour", "conversation_id", "answers", "submit"]
    assert review_count(db) == 0


@pytest.mark.parametrize(
    ("body", "status"),
    [("not json", 415), ("[1, 2]", 400)],
)
def test_the_body_must_be_a_json_object(
    client: FlaskClient, db: Session, world: World, body: str, status: int
) -> None:
    headers = bearer(db, world.users["qa"])
    content_type = "text/plain" if status == 415 else "application/json"
    response = client.post("/api/v1/reviews", data=body, headers=headers, content_type=content_type)
    assert response.status_code == status


def test_scope_own_conversations_and_scorecards(
    client: FlaskClient, db: Session, world: World, make: Factory
) -> None:
    lumen = post(client, bearer(db, world.users["lumen_qa"]), conversation_id=world.conversation.id)
    assert lumen.status_code == 422
    assert lumen.get_json()["error"]["errors"][0] == {
        "field": "conversation_id",
        "message": "no such conversation, or not yours to see",
    }
    promoted = make.agent(name="Now in QA")
    qa_agent = make.user(Role.QA_SPECIALIST, agent=promoted)
    own = post(client, bearer(db, qa_agent), conversation_id=make.conversation(promoted).id)
    assert own.status_code == 422
    assert "You cannot review your own conversations." in own.get_json()["error"]["message"]
    headers = bearer(db, world.users["qa"])
    unknown = post(client, headers, conversation_id=world.conversation.id, scorecard_id=999)
    assert unknown.get_json()["error"]["errors"][0]["field"] == "scorecard_id"
    chosen = post(
        client, headers, conversation_id=world.conversation.id, scorecard_id=world.card.scorecard.id
    )
    assert chosen.status_code == 201
    assert chosen.get_json()["scorecard"]["id"] == world.card.scorecard.id
    assert review_count(db) == 1
