"""/api/v1/assignments: the review assignments of the web UI's /sampling/assignments, by token."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.org.roles import Role
from qa_app.reviews import services as review_services
from qa_app.sampling import services
from qa_app.sampling.models import (
    AssignmentEvent,
    AssignmentStatus,
    ReviewAssignment,
    SamplingPlan,
)
from tests.conftest import Factory, bearer
from tests.reviews.factories import Card, published_scorecard
from tests.sampling.factories import WEEK, make_plan
from tests.statements import recorded_statements

URL = "/api/v1/assignments"


@dataclass
class World:
    """Northwind, Lumen and in-house conversations, four each, sampled by one plan over three
    reviewers: Northwind's partner QA (own partner only) and two QA specialists."""

    card: Card
    plan: SamplingPlan
    ids: dict[str, set[int]]  # conversation ids by "northwind", "lumen", "home"
    users: dict[str, User]

    def headers(self, db: Session, who: str) -> dict[str, str]:
        return bearer(db, self.users[who])


@pytest.fixture
def world(db: Session, make: Factory) -> World:
    northwind, lumen = make.partner("Northwind"), make.partner("Lumen")
    agents = {
        "northwind": make.agent(make.team("NW", northwind), name="Nadia"),
        "lumen": make.agent(make.team("LU", lumen), name="Lars"),
        "home": make.agent(make.team("Home"), name="Hana"),
    }
    ids = {
        key: {
            make.conversation(agent, started_at=WEEK.start + timedelta(hours=hour)).id
            for hour in range(4)
        }
        for key, agent in agents.items()
    }
    users = {
        "northwind_qa": make.user(Role.PARTNER_QA, partner=northwind),
        "lumen_qa": make.user(Role.PARTNER_QA, partner=lumen),
        "northwind_viewer": make.user(Role.PARTNER_VIEWER, partner=northwind),
        "qa_one": make.user(Role.QA_SPECIALIST),
        "qa_two": make.user(Role.QA_SPECIALIST),
        "manager": make.user(Role.MANAGER),
        "admin": make.user(Role.ADMIN),
        "agent": make.user(Role.AGENT, agent=agents["home"]),
    }
    card = published_scorecard(db, "Chat quality")
    reviewers = [users[key] for key in ("northwind_qa", "qa_one", "qa_two")]
    plan = make_plan(db, card, "All chats", reviewers, 12)
    services.run_plan(db, plan, WEEK)
    db.commit()
    return World(card=card, plan=plan, ids=ids, users=users)


def assignment_ids(db: Session, **where: Any) -> set[int]:
    return set(db.scalars(select(ReviewAssignment.id).filter_by(**where)))


def of_partner(db: Session, world: World, key: str) -> set[int]:
    return {
        item.id
        for item in db.scalars(select(ReviewAssignment))
        if item.conversation_id in world.ids[key]
    }


def listed(client: FlaskClient, headers: dict[str, str], query: str = "") -> set[int]:
    response = client.get(f"{URL}{query}", headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["total"] == len(response.json["items"])  # one page in these tests
    return {item["id"] for item in response.json["items"]}


def events(db: Session, assignment_id: int) -> list[AssignmentEvent]:
    db.expire_all()
    return list(db.scalars(select(AssignmentEvent).filter_by(assignment_id=assignment_id)))


# --- listing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", "all"),
        ("manager", "all"),
        ("qa_one", "own"),
        ("northwind_qa", "own"),
        ("lumen_qa", "own"),
        ("northwind_viewer", "northwind"),
    ],
)
def test_each_role_lists_the_assignments_of_its_scope(
    client: FlaskClient, db: Session, world: World, who: str, sees: str
) -> None:
    user = world.users[who]
    if sees == "all":
        expected = assignment_ids(db)
        assert len(expected) == 12
    elif sees == "own":
        expected = assignment_ids(db, reviewer_id=user.id)
    else:
        expected = of_partner(db, world, "northwind")
        assert len(expected) == 4
    assert listed(client, world.headers(db, who)) == expected
    if who == "qa_one":
        assert expected
        assert expected != assignment_ids(db) - assignment_ids(db, reviewer_id=None)
    if who == "northwind_qa":
        assert expected == of_partner(db, world, "northwind")  # own_only: all of Northwind's
    if who == "lumen_qa":
        assert expected == set()  # not a reviewer of the plan


def test_agents_get_403(client: FlaskClient, db: Session, world: World) -> None:
    headers = world.headers(db, "agent")
    item_id = min(assignment_ids(db))
    assert client.get(URL, headers=headers).status_code == 403
    assert client.get(f"{URL}/{item_id}", headers=headers).status_code == 403


def test_partner_users_never_see_other_partners_assignments(
    client: FlaskClient, db: Session, world: World
) -> None:
    lumen_qa = world.users["lumen_qa"]
    northwind_item = db.get(ReviewAssignment, min(of_partner(db, world, "northwind")))
    northwind_item.reviewer_id = lumen_qa.id  # even when (wrongly) assigned to them
    db.commit()
    headers = world.headers(db, "lumen_qa")
    assert listed(client, headers, "?status=all") == set()
    assert client.get(f"{URL}/{northwind_item.id}", headers=headers).status_code == 404


def test_an_item_has_the_documented_shape(client: FlaskClient, db: Session, world: World) -> None:
    qa_one = world.users["qa_one"]
    item_id = min(assignment_ids(db, reviewer_id=qa_one.id))
    row = db.get(ReviewAssignment, item_id)
    conversation = row.conversation
    response = client.get(URL, headers=world.headers(db, "manager"))
    assert response.headers["Cache-Control"] == "no-store"
    item = next(item for item in response.json["items"] if item["id"] == item_id)
    assert item == {
        "id": item_id,
        "status": "open",
        "conversation": {
            "id": conversation.id,
            "external_id": conversation.external_id,
            "channel": "chat",
            "started_at": item["conversation"]["started_at"],
        },
        "agent": {
            "id": conversation.agent.id,
            "external_id": conversation.agent.external_id,
            "name": conversation.agent.name,
        },
        "team": {"id": conversation.team.id, "name": conversation.team.name},
        "reviewer": {"id": qa_one.id, "name": qa_one.name},
        "scorecard": {"id": world.card.scorecard.id, "name": "Chat quality"},
        "plan": {"id": world.plan.id, "name": "All chats"},
        "stratum": row.stratum,
        "weight": 1.0,
        "reason": row.reason,
        "due_at": item["due_at"],
        "created_at": item["created_at"],
        "skip_reason": None,
        "review_id": None,
        "url": f"http://localhost{URL}/{item_id}",
    }
    assert item["reason"].startswith("Sampled by plan 'All chats'")
    assert item["conversation"]["started_at"].startswith("2026-09-28T")
    assert item["conversation"]["started_at"].endswith("+00:00")
    assert item["due_at"].endswith("+00:00")
    detail = client.get(item["url"], headers=world.headers(db, "manager")).json
    assert detail == {**item, "history": []}


def test_an_assignment_with_a_draft_names_its_review(
    client: FlaskClient, db: Session, world: World
) -> None:
    qa_one = world.users["qa_one"]
    row = db.get(ReviewAssignment, min(assignment_ids(db, reviewer_id=qa_one.id)))
    review = review_services.start_review(db, row.conversation, qa_one, assignment=row)
    db.commit()
    headers = world.headers(db, "qa_one")
    item = next(i for i in client.get(URL, headers=headers).json["items"] if i["id"] == row.id)
    assert (item["status"], item["review_id"]) == ("in_progress", review.id)
    assert client.get(item["url"], headers=headers).json["review_id"] == review.id


def test_a_manager_filters_by_status_plan_and_reviewer(
    client: FlaskClient, db: Session, world: World
) -> None:
    headers = world.headers(db, "manager")
    qa_one = world.users["qa_one"]
    qa_one_items = assignment_ids(db, reviewer_id=qa_one.id)
    other_plan = make_plan(db, world.card, "Other", [], 1)
    assert listed(client, headers, f"?plan_id={world.plan.id}") == assignment_ids(db)
    assert listed(client, headers, f"?plan_id={other_plan.id}") == set()
    assert listed(client, headers, f"?reviewer_id={qa_one.id}") == qa_one_items
    skipped = min(qa_one_items)
    services.skip(db, db.get(ReviewAssignment, skipped), "Duplicate.")
    unassigned = min(qa_one_items - {skipped})
    db.get(ReviewAssignment, unassigned).reviewer_id = None
    db.commit()
    assert skipped not in listed(client, headers)  # the default: open and in progress
    assert listed(client, headers, "?status=skipped") == {skipped}
    assert listed(client, headers, "?status=done") == set()
    assert listed(client, headers, "?status=open") == assignment_ids(db) - {skipped}
    assert listed(client, headers, "?status=all") == assignment_ids(db)
    assert listed(client, headers, "?reviewer_id=none") == {unassigned}
    assert listed(client, headers, "?reviewer_id=NONE&status=all") == {unassigned}
    both = f"?reviewer_id={qa_one.id}&status=all&plan_id={world.plan.id}"
    assert listed(client, headers, both) == qa_one_items - {unassigned}


@pytest.mark.parametrize(
    "query",
    ["?status=closed", "?plan_id=abc", "?plan_id=0", "?reviewer_id=abc", "?page=0"],
)
def test_bad_filters_are_400_naming_the_parameter(
    client: FlaskClient, db: Session, world: World, query: str
) -> None:
    response = client.get(f"{URL}{query}", headers=world.headers(db, "manager"))
    assert response.status_code == 400
    name = query[1:].split("=")[0]
    assert f"'{name}'" in response.json["error"]["message"]


def test_the_reviewer_filter_is_for_managers_only(
    client: FlaskClient, db: Session, world: World
) -> None:
    qa_two = world.users["qa_two"]
    for who in ("qa_one", "northwind_viewer"):
        response = client.get(f"{URL}?reviewer_id={qa_two.id}", headers=world.headers(db, who))
        assert response.status_code == 400
        assert "'reviewer_id'" in response.json["error"]["message"]


def test_pages_follow_next_with_the_same_filters(
    client: FlaskClient, db: Session, world: World
) -> None:
    headers = world.headers(db, "manager")
    expected = assignment_ids(db)
    first = client.get(f"{URL}?per_page=5&status=all", headers=headers).json
    assert (first["page"], first["per_page"], first["total"]) == (1, 5, 12)
    assert len(first["items"]) == 5
    assert "status=all" in first["next"]
    assert "page=2" in first["next"]
    seen = [item["id"] for item in first["items"]]
    page = first
    while page["next"] is not None:
        page = client.get(page["next"], headers=headers).json
        seen += [item["id"] for item in page["items"]]
    assert page["page"] == 3
    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == expected
    capped = client.get(f"{URL}?per_page=5000", headers=headers).json
    assert (capped["per_page"], capped["next"]) == (200, None)
    beyond = client.get(f"{URL}?page=9", headers=headers).json
    assert (beyond["items"], beyond["total"], beyond["next"]) == ([], 12, None)


def test_the_list_is_ordered_by_due_date_undated_last(
    client: FlaskClient, db: Session, world: World
) -> None:
    rows = sorted(db.scalars(select(ReviewAssignment)), key=lambda row: row.id)
    rows[0].due_at = None
    rows[1].due_at = rows[1].due_at - timedelta(days=3)
    db.commit()
    ids = [
        item["id"] for item in client.get(URL, headers=world.headers(db, "manager")).json["items"]
    ]
    assert ids[0] == rows[1].id
    assert ids[-1] == rows[0].id


def statements(app: Flask) -> AbstractContextManager[list[str]]:
    return recorded_statements(app.extensions["qa_db_engine"])


def test_listing_uses_a_fixed_number_of_queries(
    app: Flask, client: FlaskClient, make: Factory, db: Session
) -> None:
    """Every assignment has its own partner, team, agent, reviewer, plan and scorecard."""
    headers = bearer(db, make.user(Role.MANAGER))

    def add_assignments(number: int) -> None:
        for _ in range(number):
            agent = make.agent(make.team(partner=make.partner()))
            conversation = make.conversation(agent, started_at=WEEK.start)
            reviewer = make.user(Role.QA_SPECIALIST)
            card = published_scorecard(db, f"Card {make.counter}")
            plan = make_plan(db, card, f"Plan {make.counter}", [reviewer], 1)
            services.run_plan(db, plan, WEEK)
            row = db.scalars(select(ReviewAssignment).filter_by(plan_id=plan.id)).one()
            review_services.start_review(db, conversation, reviewer, assignment=row)
            db.commit()

    add_assignments(2)
    with statements(app) as few:
        response = client.get(URL, headers=headers)
        assert len(response.json["items"]) == 2
    add_assignments(10)
    with statements(app) as many:
        response = client.get(URL, headers=headers)
        assert len(response.json["items"]) == 12
    assert all(item["review_id"] is not None for item in response.json["items"])
    assert all(item["plan"] is not None for item in response.json["items"])
    assert len(many) == len(few)
    assert len(many) <= 8


# --- one assignment -----------------------------------------------------------------------------


def test_an_assignment_outside_ones_view_is_404(
    client: FlaskClient, db: Session, world: World
) -> None:
    lumen_item = min(of_partner(db, world, "lumen"))
    northwind_item = min(of_partner(db, world, "northwind"))
    viewer = world.headers(db, "northwind_viewer")
    assert client.get(f"{URL}/{northwind_item}", headers=viewer).status_code == 200
    response = client.get(f"{URL}/{lumen_item}", headers=viewer)
    assert response.status_code == 404
    assert response.json["error"]["message"] == (
        "There is no such assignment, or it is not yours to see."
    )
    qa_one, qa_two = world.users["qa_one"], world.users["qa_two"]
    headers = world.headers(db, "qa_one")
    own = min(assignment_ids(db, reviewer_id=qa_one.id))
    theirs = min(assignment_ids(db, reviewer_id=qa_two.id))
    assert client.get(f"{URL}/{own}", headers=headers).status_code == 200
    assert client.get(f"{URL}/{theirs}", headers=headers).status_code == 404
    missing = max(assignment_ids(db)) + 100
    assert client.get(f"{URL}/{missing}", headers=world.headers(db, "manager")).status_code == 404


# --- reassigning and skipping -------------------------------------------------------------------


def post(client: FlaskClient, headers: dict[str, str], path: str, body: Any) -> Any:
    return client.post(f"{URL}/{path}", headers=headers, json=body)


def test_a_manager_reassigns_and_skips_an_assignment(
    client: FlaskClient, db: Session, world: World
) -> None:
    manager, qa_one, qa_two = (world.users[key] for key in ("manager", "qa_one", "qa_two"))
    headers = world.headers(db, "manager")
    item_id = min(assignment_ids(db, reviewer_id=qa_one.id))

    response = post(client, headers, f"{item_id}/reassign", {"reviewer_id": qa_two.id})
    assert response.status_code == 200, response.json
    assert response.json["reviewer"] == {"id": qa_two.id, "name": qa_two.name}
    assert response.json["status"] == "open"
    [reassigned] = response.json["history"]
    assert reassigned["action"] == "reassigned"
    assert reassigned["actor"] == {"id": manager.id, "name": manager.name}
    assert reassigned["details"] == {
        "from": {"id": qa_one.id, "name": qa_one.name},
        "to": {"id": qa_two.id, "name": qa_two.name},
    }
    assert reassigned["at"].endswith("+00:00")
    db.expire_all()
    assert db.get(ReviewAssignment, item_id).reviewer_id == qa_two.id
    assert item_id in listed(client, world.headers(db, "qa_two"))
    assert item_id not in listed(client, world.headers(db, "qa_one"))

    response = post(client, headers, f"{item_id}/skip", {"reason": "  A test chat. "})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["skip_reason"]) == ("skipped", "A test chat.")
    assert [entry["action"] for entry in response.json["history"]] == ["reassigned", "skipped"]
    skipped = response.json["history"][1]
    assert skipped["details"] == {"reason": "A test chat.", "released_review_id": None}
    assert skipped["actor"] == {"id": manager.id, "name": manager.name}
    db.expire_all()
    row = db.get(ReviewAssignment, item_id)
    assert (row.status, row.skip_reason, row.skipped_by_id) == (
        AssignmentStatus.SKIPPED,
        "A test chat.",
        manager.id,
    )
    detail = client.get(f"{URL}/{item_id}", headers=headers).json
    assert detail["history"] == response.json["history"]


def test_skipping_an_assignment_in_progress_releases_its_draft(
    client: FlaskClient, db: Session, world: World
) -> None:
    qa_one = world.users["qa_one"]
    row = db.get(ReviewAssignment, min(assignment_ids(db, reviewer_id=qa_one.id)))
    review = review_services.start_review(db, row.conversation, qa_one, assignment=row)
    db.commit()
    response = post(client, world.headers(db, "admin"), f"{row.id}/skip", {"reason": "Spam."})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["review_id"]) == ("skipped", None)
    assert response.json["history"][0]["details"] == {
        "reason": "Spam.",
        "released_review_id": review.id,
    }


def test_reassigning_to_an_ineligible_reviewer_is_422_and_changes_nothing(
    client: FlaskClient, db: Session, world: World
) -> None:
    northwind_qa, lumen_qa = world.users["northwind_qa"], world.users["lumen_qa"]
    item = db.get(ReviewAssignment, min(of_partner(db, world, "lumen")))
    before = item.reviewer_id
    headers = world.headers(db, "manager")
    cases = [
        ({"reviewer_id": northwind_qa.id}, "reviewer_id", "their own partner's conversations"),
        ({"reviewer_id": world.users["agent"].id}, "reviewer_id", "cannot review conversations"),
        ({"reviewer_id": world.users["northwind_viewer"].id}, "reviewer_id", "cannot review"),
        ({"reviewer_id": before}, "reviewer_id", "is already"),
        ({"reviewer_id": 999_999}, "reviewer_id", "does not exist"),
        ({"reviewer_id": "7"}, "reviewer_id", "must be a whole number"),
        ({"reviewer_id": True}, "reviewer_id", "must be a whole number"),
        ({}, "reviewer_id", "is required"),
    ]
    for body, field, message in cases:
        response = post(client, headers, f"{item.id}/reassign", body)
        assert response.status_code == 422, body
        error = response.json["error"]
        assert (error["status"], error["title"]) == (422, "Unprocessable content")
        assert error["message"].startswith("The reassignment was not saved: ")
        [problem] = error["errors"]
        assert problem["field"] == field, body
        assert message in problem["message"], body
    response = post(client, headers, f"{item.id}/reassign", {"reviewer_id": lumen_qa.id, "x": 1})
    assert response.status_code == 422  # the reassignment itself is fine; the stray field is not
    db.expire_all()
    assert db.get(ReviewAssignment, item.id).reviewer_id == before
    assert events(db, item.id) == []
    assert response.json["error"]["errors"] == [
        {"field": "x", "message": "is not a field of a reassignment"}
    ]


def test_skipping_without_a_reason_is_422_and_changes_nothing(
    client: FlaskClient, db: Session, world: World
) -> None:
    item_id = min(assignment_ids(db))
    headers = world.headers(db, "manager")
    cases = [
        ({"reason": "   "}, "Say why the conversation is skipped."),
        ({"reason": ""}, "Say why the conversation is skipped."),
        ({}, "is required"),
        ({"reason": 5}, "must be text"),
        ({"reason": "x" * (services.MAX_SKIP_REASON_LENGTH + 1)}, "at most 2000 characters"),
    ]
    for body, message in cases:
        response = post(client, headers, f"{item_id}/skip", body)
        assert response.status_code == 422, body
        [problem] = response.json["error"]["errors"]
        assert problem["field"] == "reason"
        assert message in problem["message"]
        assert response.json["error"]["message"].startswith("The skip was not saved: ")
    db.expire_all()
    row = db.get(ReviewAssignment, item_id)
    assert (row.status, row.skip_reason, row.skipped_at) == (AssignmentStatus.OPEN, None, None)
    assert events(db, item_id) == []


def test_a_closed_assignment_can_be_neither_reassigned_nor_skipped(
    client: FlaskClient, db: Session, world: World
) -> None:
    qa_one, qa_two = world.users["qa_one"], world.users["qa_two"]
    item_id = min(assignment_ids(db, reviewer_id=qa_one.id))
    headers = world.headers(db, "manager")
    assert post(client, headers, f"{item_id}/skip", {"reason": "Duplicate."}).status_code == 200
    again = post(client, headers, f"{item_id}/skip", {"reason": "Again."})
    assert again.status_code == 422
    assert again.json["error"]["errors"][0]["field"] is None
    assert "this one is skipped" in again.json["error"]["errors"][0]["message"]
    moved = post(client, headers, f"{item_id}/reassign", {"reviewer_id": qa_two.id})
    assert moved.status_code == 422
    assert moved.json["error"]["errors"] == [
        {
            "field": None,
            "message": "Only open assignments can be reassigned; this one is skipped.",
        }
    ]
    db.expire_all()
    assert db.get(ReviewAssignment, item_id).reviewer_id == qa_one.id
    assert [entry.action for entry in events(db, item_id)] == ["skipped"]


@pytest.mark.parametrize("action", ["reassign", "skip"])
def test_non_managers_get_403_for_what_they_see_and_404_otherwise(
    client: FlaskClient, db: Session, world: World, action: str
) -> None:
    qa_one, qa_two = world.users["qa_one"], world.users["qa_two"]
    own = min(assignment_ids(db, reviewer_id=qa_one.id))
    theirs = min(assignment_ids(db, reviewer_id=qa_two.id))
    northwind = min(of_partner(db, world, "northwind"))
    lumen = min(of_partner(db, world, "lumen"))
    body = {"reviewer_id": qa_two.id} if action == "reassign" else {"reason": "Mine."}
    cases = [
        ("qa_one", own, 403),
        ("qa_one", theirs, 404),
        ("northwind_qa", northwind, 403),
        ("northwind_qa", lumen, 404),
        ("northwind_viewer", northwind, 403),
        ("northwind_viewer", lumen, 404),
        ("agent", own, 403),
    ]
    for who, item_id, status in cases:
        response = post(client, world.headers(db, who), f"{item_id}/{action}", body)
        assert response.status_code == status, (who, item_id)
        assert response.json["error"]["status"] == status
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(AssignmentEvent)) == 0
    assert db.get(ReviewAssignment, own).reviewer_id == qa_one.id
    assert assignment_ids(db, status=AssignmentStatus.SKIPPED) == set()


def test_the_body_must_be_a_json_object(client: FlaskClient, db: Session, world: World) -> None:
    item_id = min(assignment_ids(db))
    headers = world.headers(db, "manager")
    response = client.post(f"{URL}/{item_id}/skip", headers=headers, data="reason=Spam")
    assert response.status_code == 415
    response = post(client, headers, f"{item_id}/skip", ["Spam."])
    assert response.status_code == 400
    assert events(db, item_id) == []


def test_every_endpoint_needs_a_token(client: FlaskClient, db: Session, world: World) -> None:
    item_id = min(assignment_ids(db))
    requests = [
        ("GET", URL),
        ("GET", f"{URL}/{item_id}"),
        ("POST", f"{URL}/{item_id}/reassign"),
        ("POST", f"{URL}/{item_id}/skip"),
    ]
    for method, path in requests:
        for headers in ({}, {"Authorization": "Bearer qa_not-a-real-token"}):
            response = client.open(path, method=method, headers=headers, json={"reason": "x"})
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"].startswith('Bearer realm="qa_app"')
    assert events(db, item_id) == []
