"""The review workflow through the web client: queue, scoring, disputes, scope, query counts."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.org.models import Agent
from qa_app.org.roles import Role
from qa_app.reviews.models import DisputeOutcome, Review, ReviewEvent, ReviewStatus
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from tests.conftest import Factory, login
from tests.reviews.factories import (
    MIXED,
    MIXED_SCORE,
    PERFECT,
    Card,
    assignment,
    published_scorecard,
    scored_review,
    submitted_review,
)
from tests.statements import recorded_statements


@dataclass
class World:
    card: Card
    agent: Agent
    other_agent: Agent
    conversation: Conversation
    users: dict[str, User]


@pytest.fixture
def world(make: Factory, db: Session) -> World:
    """Partner Northwind's agent Maya and in-house agent Sam; users of every role."""
    northwind = make.partner("Northwind")
    maya = make.agent(make.team("Northwind Chat", northwind), name="Maya")
    sam = make.agent(make.team("Tier 1"), name="Sam")
    users = {
        "qa": make.user(Role.QA_SPECIALIST),
        "manager": make.user(Role.MANAGER),
        "admin": make.user(Role.ADMIN),
        "maya": make.user(Role.AGENT, agent=maya),
        "sam": make.user(Role.AGENT, agent=sam),
        "northwind_viewer": make.user(Role.PARTNER_VIEWER, partner=northwind),
        "northwind_qa": make.user(Role.PARTNER_QA, partner=northwind),
        "lumen_viewer": make.user(Role.PARTNER_VIEWER, partner=make.partner("Lumen")),
    }
    conversation = make.conversation(
        maya,
        messages=[
            ("customer", "My parcel <script>alert(1)</script> never came."),
            ("agent", "Sorry about that, let me check the tracking."),
        ],
    )
    return World(published_scorecard(db), maya, sam, conversation, users)


@pytest.fixture
def as_user(app: Flask) -> Any:
    """A logged-in client per user, so several people can act in one test."""

    def _client(user: User) -> FlaskClient:
        client = app.test_client()
        login(client, user)
        return client

    return _client


def form_data(card: Card, values: dict[str, str], prefix: str = "", **extra: str) -> dict:
    data = {f"{prefix}answer_{card.criteria[key].id}": value for key, value in values.items()}
    return {**data, **extra}


def review_of(db: Session, conversation: Conversation) -> Review:
    db.expire_all()
    return db.scalars(select(Review).where(Review.conversation_id == conversation.id)).one()


def actions(db: Session, review: Review) -> list[str]:
    stmt = select(ReviewEvent.action).where(ReviewEvent.review_id == review.id)
    return list(db.scalars(stmt.order_by(ReviewEvent.id)))


def score_from_queue(qa: FlaskClient, world: World, db: Session, values: dict[str, str]) -> Review:
    work = assignment(db, world.conversation, world.card, world.users["qa"])
    queue = qa.get("/reviews/queue").get_data(as_text=True)
    assert world.conversation.external_id in queue
    started = qa.post(f"/reviews/assignments/{work.id}/start")
    assert started.status_code == 302
    edit_url = started.headers["Location"]
    page = qa.get(edit_url).get_data(as_text=True)
    assert "My parcel &lt;script&gt;alert(1)&lt;/script&gt; never came." in page
    assert "<script>alert(1)" not in page
    assert "N/A when the customer opened with a bot." in page  # guidance
    assert "4 · Excellent" in page  # scale labels
    submitted = qa.post(edit_url, data=form_data(world.card, values, submit="Submit review"))
    assert submitted.status_code == 302
    return review_of(db, world.conversation)


# The whole flow --------------------------------------------------------------------------------


def test_review_dispute_upheld_flow(world: World, db: Session, as_user: Any) -> None:
    qa = as_user(world.users["qa"])
    review = score_from_queue(qa, world, db, MIXED)
    assert review.status == ReviewStatus.SUBMITTED
    assert review.score == pytest.approx(MIXED_SCORE)
    assert db.get(ReviewAssignment, review.assignment_id).status == AssignmentStatus.DONE
    assert world.conversation.external_id not in qa.get("/reviews/queue").get_data(as_text=True)

    maya = as_user(world.users["maya"])
    listing = maya.get("/reviews/").get_data(as_text=True)
    assert f'data-testid="review-{review.id}"' in listing
    page = maya.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "61.1" in page
    assert ">Acknowledge<" in page
    assert ">Dispute<" in page
    assert maya.get(f"/reviews/{review.id}/dispute").status_code == 200
    empty = maya.post(f"/reviews/{review.id}/dispute", data={"reason": "  "})
    assert "Give a reason for the dispute." in empty.get_data(as_text=True)
    sent = maya.post(f"/reviews/{review.id}/dispute", data={"reason": "I greeted by name."})
    assert sent.status_code == 302
    review = review_of(db, world.conversation)
    assert review.status == ReviewStatus.DISPUTED
    [dispute] = review.disputes

    manager = as_user(world.users["manager"])
    page = manager.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert f"/reviews/disputes/{dispute.id}/resolve" in page
    resolve_page = manager.get(f"/reviews/disputes/{dispute.id}/resolve")
    assert resolve_page.status_code == 200
    assert "I greeted by name." in resolve_page.get_data(as_text=True)
    no_note = manager.post(
        f"/reviews/disputes/{dispute.id}/resolve", data={"uphold-submit": "Uphold the review"}
    )
    assert no_note.status_code == 422
    upheld = manager.post(
        f"/reviews/disputes/{dispute.id}/resolve",
        data={"uphold-note": "The name came only at the end.", "uphold-submit": "Uphold"},
    )
    assert upheld.status_code == 302
    review = review_of(db, world.conversation)
    assert review.status == ReviewStatus.RESOLVED
    assert review.disputes[0].outcome == DisputeOutcome.UPHELD
    assert review.score == pytest.approx(MIXED_SCORE)

    page = maya.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "The name came only at the end." in page
    assert ">Dispute<" not in page  # an upheld dispute is final
    assert maya.post(f"/reviews/{review.id}/acknowledge").status_code == 302
    review = review_of(db, world.conversation)
    assert review.status == ReviewStatus.ACKNOWLEDGED
    assert actions(db, review) == [
        "created",
        "saved",
        "submitted",
        "disputed",
        "resolved_upheld",
        "acknowledged",
    ]


def test_review_dispute_rescore_flow_keeps_old_answers(
    world: World, db: Session, as_user: Any
) -> None:
    review = submitted_review(
        db, world.card, world.conversation, world.users["qa"], MIXED, comments={"greeting": "No"}
    )
    maya = as_user(world.users["maya"])
    maya.post(f"/reviews/{review.id}/dispute", data={"reason": "I said hello, Ann."})
    dispute = review_of(db, world.conversation).disputes[0]

    admin = as_user(world.users["admin"])
    page = admin.get(f"/reviews/disputes/{dispute.id}/resolve").get_data(as_text=True)
    greeting_id = world.card.criteria["greeting"].id
    # The re-score form is prefilled with the current answers.
    assert re.search(rf'id="rescore-answer_{greeting_id}-1"[^>]*checked', page) or re.search(
        rf'checked[^>]*id="rescore-answer_{greeting_id}-1"', page
    )
    data = form_data(world.card, {**MIXED, "greeting": "yes"}, prefix="rescore-")
    data.update(
        {
            f"rescore-comment_{greeting_id}": "Greeted by name",
            "rescore-note": "Agreed: the greeting was there.",
            "rescore-submit": "Re-score",
        }
    )
    assert admin.post(f"/reviews/disputes/{dispute.id}/resolve", data=data).status_code == 302
    review = review_of(db, world.conversation)
    assert review.status == ReviewStatus.RESOLVED
    assert review.score == pytest.approx(77.78)
    rescored = db.scalars(
        select(ReviewEvent).where(
            ReviewEvent.review_id == review.id, ReviewEvent.action == "rescored"
        )
    ).one()
    assert rescored.actor_id == world.users["admin"].id
    assert rescored.details["old_score"] == pytest.approx(MIXED_SCORE)
    assert rescored.details["old_answers"]["greeting"] == {"value": "no", "comment": "No"}

    page = maya.get(f"/reviews/{review.id}").get_data(as_text=True)
    assert "Answers before the re-score (score 61.11)" in page
    assert "77.8" in page
    assert ">Dispute<" in page  # a re-score may be disputed once more


# Drafts and submission -------------------------------------------------------------------------


def test_drafts_keep_partial_answers_and_stay_private(
    world: World, db: Session, as_user: Any
) -> None:
    qa = as_user(world.users["qa"])
    started = qa.post(
        f"/reviews/conversations/{world.conversation.id}/new",
        data={"scorecard_id": world.card.scorecard.id},
    )
    assert started.status_code == 302
    edit_url = started.headers["Location"]
    saved = qa.post(
        edit_url,
        data=form_data(
            world.card, {"greeting": "yes"}, overall_comment="So far so good", save="Save draft"
        ),
    )
    assert saved.status_code == 302
    review = review_of(db, world.conversation)
    assert review.status == ReviewStatus.DRAFT
    assert review.overall_comment == "So far so good"
    page = qa.get(edit_url).get_data(as_text=True)
    greeting_id = world.card.criteria["greeting"].id
    assert re.search(
        rf'checked[^>]*id="answer_{greeting_id}-0"|id="answer_{greeting_id}-0"[^>]*checked', page
    )
    # Starting again leads back to the same draft.
    again = qa.get(f"/reviews/conversations/{world.conversation.id}/new")
    assert again.headers["Location"].endswith(f"/reviews/{review.id}/edit")
    for name in ("manager", "admin", "maya", "northwind_viewer", "northwind_qa"):
        other = as_user(world.users[name])
        assert other.get(f"/reviews/{review.id}").status_code == 404, name
        assert f"review-{review.id}" not in other.get("/reviews/").get_data(as_text=True)


def test_submit_with_missing_answers_names_them_and_keeps_the_draft(
    world: World, db: Session, as_user: Any
) -> None:
    qa = as_user(world.users["qa"])
    started = qa.post(
        f"/reviews/conversations/{world.conversation.id}/new",
        data={"scorecard_id": world.card.scorecard.id},
    )
    edit_url = started.headers["Location"]
    response = qa.post(
        edit_url, data=form_data(world.card, {"greeting": "yes", "empathy": "2"}, submit="Submit")
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert (
        "Not answered: Gives accurate information (accuracy), Verifies identity (identity)." in html
    )
    assert html.count("Answer this criterion.") == 2
    review = review_of(db, world.conversation)
    assert review.status == ReviewStatus.DRAFT
    assert {a.criterion.key: a.value for a in review.answers if a.value} == {
        "greeting": "yes",
        "empathy": "2",
    }


def test_an_invalid_choice_is_refused(world: World, db: Session, as_user: Any) -> None:
    qa = as_user(world.users["qa"])
    started = qa.post(
        f"/reviews/conversations/{world.conversation.id}/new",
        data={"scorecard_id": world.card.scorecard.id},
    )
    response = qa.post(
        started.headers["Location"], data=form_data(world.card, {"empathy": "9"}, save="Save")
    )
    assert response.status_code == 422
    assert review_of(db, world.conversation).answers == []


def test_reviewing_your_own_conversation_is_refused(
    world: World, db: Session, make: Factory, app: Flask
) -> None:
    promoted = make.agent(name="Former agent")  # now a QA specialist
    qa_agent = make.user(Role.QA_SPECIALIST, agent=promoted)
    own = make.conversation(promoted)
    client = app.test_client()
    login(client, qa_agent)
    response = client.post(
        f"/reviews/conversations/{own.id}/new", data={"scorecard_id": world.card.scorecard.id}
    )
    assert response.status_code == 200
    assert "You cannot review your own conversations." in response.get_data(as_text=True)
    assert db.scalars(select(Review)).all() == []


def test_queue_shows_my_assignments_with_overdue_highlighted(
    world: World, db: Session, make: Factory, as_user: Any
) -> None:
    qa = world.users["qa"]
    late = assignment(
        db, world.conversation, world.card, qa, due_at=datetime.now(UTC) - timedelta(days=1)
    )
    later = make.conversation(world.agent)
    soon = assignment(db, later, world.card, qa, due_at=datetime.now(UTC) + timedelta(days=2))
    someone_elses = assignment(
        db, make.conversation(world.agent), world.card, world.users["manager"]
    )
    done = assignment(
        db, make.conversation(world.agent), world.card, qa, status=AssignmentStatus.DONE
    )
    html = as_user(qa).get("/reviews/queue").get_data(as_text=True)
    rows = re.findall(r'<tr( class="table-danger")? data-testid="assignment-(\d+)"', html)
    assert rows == [(' class="table-danger"', str(late.id)), ("", str(soon.id))]
    assert f"assignment-{someone_elses.id}" not in html
    assert f"assignment-{done.id}" not in html
    assert "overdue" in html


def test_unassigned_assignments_can_be_taken(world: World, db: Session, as_user: Any) -> None:
    pool = assignment(db, world.conversation, world.card)
    partner_qa = as_user(world.users["northwind_qa"])
    html = partner_qa.get("/reviews/queue?show=unassigned").get_data(as_text=True)
    assert f"assignment-{pool.id}" in html
    assert partner_qa.post(f"/reviews/assignments/{pool.id}/start").status_code == 302
    db.expire_all()
    taken = db.get(ReviewAssignment, pool.id)
    assert taken.reviewer_id == world.users["northwind_qa"].id
    assert taken.status == AssignmentStatus.IN_PROGRESS
    # Another reviewer now finds it taken.
    qa = as_user(world.users["qa"])
    refused = qa.post(f"/reviews/assignments/{pool.id}/start", follow_redirects=True)
    assert "This assignment belongs to another reviewer." in refused.get_data(as_text=True)


# Who sees what ---------------------------------------------------------------------------------


@pytest.fixture
def two_reviews(world: World, db: Session, make: Factory) -> tuple[Review, Review]:
    """A submitted review of Maya (Northwind) and one of Sam (in-house)."""
    maya_review = submitted_review(db, world.card, world.conversation, world.users["qa"])
    sam_review = submitted_review(
        db, world.card, make.conversation(world.other_agent), world.users["qa"], PERFECT
    )
    return maya_review, sam_review


@pytest.mark.parametrize(
    ("user", "sees_maya", "sees_sam"),
    [
        ("qa", True, True),
        ("manager", True, True),
        ("admin", True, True),
        ("maya", True, False),
        ("sam", False, True),
        ("northwind_viewer", True, False),
        ("northwind_qa", True, False),
        ("lumen_viewer", False, False),
    ],
)
def test_each_role_sees_only_the_reviews_in_its_scope(
    world: World,
    two_reviews: tuple[Review, Review],
    as_user: Any,
    user: str,
    sees_maya: bool,
    sees_sam: bool,
) -> None:
    client = as_user(world.users[user])
    listing = client.get("/reviews/").get_data(as_text=True)
    for review, expected in zip(two_reviews, (sees_maya, sees_sam), strict=True):
        assert (f'data-testid="review-{review.id}"' in listing) is expected
        assert client.get(f"/reviews/{review.id}").status_code == (200 if expected else 404)


def test_only_the_agent_acknowledges(
    world: World, two_reviews: tuple[Review, Review], db: Session, as_user: Any
) -> None:
    maya_review, _ = two_reviews
    assert (
        as_user(world.users["qa"]).post(f"/reviews/{maya_review.id}/acknowledge").status_code == 403
    )
    assert (
        as_user(world.users["sam"]).post(f"/reviews/{maya_review.id}/acknowledge").status_code
        == 404
    )
    assert as_user(world.users["sam"]).get(f"/reviews/{maya_review.id}/dispute").status_code == 404
    assert review_of(db, world.conversation).status == ReviewStatus.SUBMITTED
    assert (
        as_user(world.users["maya"]).post(f"/reviews/{maya_review.id}/acknowledge").status_code
        == 302
    )
    assert review_of(db, world.conversation).status == ReviewStatus.ACKNOWLEDGED


def test_only_managers_and_admins_resolve_and_never_their_own_review(
    world: World, db: Session, as_user: Any
) -> None:
    review = submitted_review(db, world.card, world.conversation, world.users["manager"])
    as_user(world.users["maya"]).post(f"/reviews/{review.id}/dispute", data={"reason": "Unfair"})
    dispute = review_of(db, world.conversation).disputes[0]
    url = f"/reviews/disputes/{dispute.id}/resolve"
    for name in ("qa", "maya", "northwind_qa", "northwind_viewer"):
        assert as_user(world.users[name]).get(url).status_code == 403, name
    own = as_user(world.users["manager"]).get(url, follow_redirects=True)
    assert "not yours to decide" in own.get_data(as_text=True)
    admin = as_user(world.users["admin"])
    assert admin.get(url).status_code == 200
    assert admin.post(url, data={"uphold-note": "Stands.", "uphold-submit": "x"}).status_code == 302
    assert review_of(db, world.conversation).status == ReviewStatus.RESOLVED


def test_list_filters(world: World, db: Session, make: Factory, as_user: Any) -> None:
    qa = world.users["qa"]
    low = scored_review(db, world.card, make.conversation(world.agent), qa, 40.0)
    high = scored_review(db, world.card, make.conversation(world.other_agent), qa, 95.0)
    disputed = scored_review(
        db, world.card, make.conversation(world.agent), qa, 70.0, status=ReviewStatus.DISPUTED
    )
    client = as_user(world.users["manager"])

    def shown(query: str) -> set[int]:
        response = client.get(f"/reviews/?{query}")
        assert response.status_code == 200, query
        return {
            int(i)
            for i in re.findall(r'data-testid="review-(\d+)"', response.get_data(as_text=True))
        }

    assert shown("") == {low.id, high.id, disputed.id}
    assert shown(f"agent={world.agent.id}") == {low.id, disputed.id}
    assert shown(f"team={world.other_agent.team_id}") == {high.id}
    assert shown("status=disputed") == {disputed.id}
    assert shown("score_min=50&score_max=90") == {disputed.id}
    today = datetime.now(UTC).date()
    assert shown(f"submitted_from={today}&submitted_to={today}") == {low.id, high.id, disputed.id}
    assert shown(f"submitted_to={today - timedelta(days=1)}") == set()
    assert client.get("/reviews/?score_min=90&score_max=10").status_code == 400
    assert client.get("/reviews/?status=bogus").status_code == 400


# Query counts ----------------------------------------------------------------------------------


def count_queries(app: Flask) -> AbstractContextManager[list[str]]:
    return recorded_statements(app.extensions["qa_db_engine"])


def test_lists_cost_a_fixed_number_of_queries(
    world: World, db: Session, make: Factory, as_user: Any, app: Flask
) -> None:
    qa = world.users["qa"]
    manager = as_user(world.users["manager"])
    reviewer = as_user(qa)
    agents = [world.agent, world.other_agent]
    urls = ["/reviews/", "/reviews/queue", f"/reviews/agents/{world.agent.id}"]

    def add(count: int) -> None:
        for index in range(count):
            agent = agents[index % 2]
            scored_review(db, world.card, make.conversation(agent), qa, 50.0 + index)
            assignment(db, make.conversation(agent), world.card, qa)

    def costs() -> list[int]:
        result = []
        for url in urls:
            client = reviewer if url == "/reviews/queue" else manager
            with count_queries(app) as statements:
                assert client.get(url).status_code == 200
            result.append(len(statements))
        return result

    add(2)
    few = costs()
    add(10)
    many = costs()
    assert many == few
    assert max(few) <= 8


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.ADMIN, ["My queue", "Reviews"], ["My reviews"]),
        (Role.MANAGER, ["My queue", "Reviews"], ["My reviews"]),
        (Role.QA_SPECIALIST, ["My queue", "Reviews"], ["My reviews"]),
        (Role.PARTNER_QA, ["My queue", "Reviews"], ["My reviews"]),
        (Role.PARTNER_VIEWER, ["Reviews"], ["My queue", "My reviews"]),
        (Role.AGENT, ["My reviews"], ["My queue", "Reviews"]),
    ],
)
def test_navigation_shows_the_review_pages_of_each_role(
    make: Factory, as_user: Any, role: Role, visible: list[str], hidden: list[str]
) -> None:
    page = as_user(make.user(role)).get("/").get_data(as_text=True)
    nav = page.split('id="main-nav"')[1].split("</nav>")[0]
    links = re.findall(r'class="nav-link[^"]*"[^>]*>([^<]+)</a>', nav)
    assert all(label in links for label in visible), links
    assert not any(label in links for label in hidden), links
