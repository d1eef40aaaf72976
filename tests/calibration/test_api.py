"""/api/v1/calibration: the blind rule, rating through the API, results per role, partner scope."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.calibration import services
from qa_app.calibration.models import CalibrationRating, RatingStatus
from tests.calibration.factories import CalibrationWorld, calibration_world, rate
from tests.conftest import Factory, bearer
from tests.reviews.factories import MIXED, MIXED_SCORE, PERFECT

# What the world's raters answer: Northwind is lenient, Lumen strict, in-house in between.
LENIENT = PERFECT
STRICT = {"greeting": "no", "empathy": "1", "accuracy": "0", "identity": "no"}
SECRET_COMMENT = "Northwind's private reasoning"


@pytest.fixture
def world(db: Session, make: Factory) -> CalibrationWorld:
    return calibration_world(db, make)


def get(client: FlaskClient, db: Session, world: CalibrationWorld, who: str, path: str) -> Any:
    url = f"/api/v1/calibration/sessions/{world.calibration.id}{path}"
    return client.get(url, headers=bearer(db, world.users[who]))


def post_rating(
    client: FlaskClient, db: Session, world: CalibrationWorld, who: str, body: Any
) -> Any:
    return client.post(
        f"/api/v1/calibration/sessions/{world.calibration.id}/ratings",
        json=body,
        headers=bearer(db, world.users[who]),
    )


def rate_everything(db: Session, world: CalibrationWorld) -> None:
    answers = {"qa": MIXED, "northwind_qa": LENIENT, "lumen_qa": STRICT}
    for key, values in answers.items():
        for conversation in world.conversations:
            comments = {"empathy": SECRET_COMMENT} if key == "northwind_qa" else None
            rate(db, world, world.users[key], conversation, values, comments=comments)


def revealed(db: Session, world: CalibrationWorld) -> CalibrationWorld:
    rate_everything(db, world)
    for conversation in world.conversations:
        services.save_benchmark(
            db,
            world.calibration,
            conversation.id,
            world.card.answers(MIXED),
            by=world.users["manager"],
        )
    services.reveal(db, world.calibration, by=world.users["manager"])
    db.commit()
    return world


def rating_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(CalibrationRating)) or 0


# Listing and visibility -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", True),
        ("manager", True),
        ("qa", True),
        ("northwind_qa", True),
        ("lumen_qa", True),
        ("northwind_viewer", True),
        ("other_qa", False),  # a QA specialist who does not rate in it
        ("acme_qa", False),  # a partner without a rater
        ("acme_viewer", False),
    ],
)
def test_sessions_are_listed_and_opened_only_in_scope(
    client: FlaskClient, db: Session, world: CalibrationWorld, who: str, sees: bool
) -> None:
    headers = bearer(db, world.users[who])
    listing = client.get("/api/v1/calibration/sessions", headers=headers)
    assert listing.status_code == 200
    data = listing.get_json()
    assert [item["id"] for item in data["items"]] == ([world.calibration.id] if sees else [])
    assert data["total"] == (1 if sees else 0)
    detail = client.get(f"/api/v1/calibration/sessions/{world.calibration.id}", headers=headers)
    assert detail.status_code == (200 if sees else 404)
    assert detail.headers["Cache-Control"] == "no-store"


def test_agents_may_not_use_the_calibration_api(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    response = client.get("/api/v1/calibration/sessions", headers=bearer(db, world.users["agent"]))
    assert response.status_code == 403
    assert client.get("/api/v1/calibration/sessions").status_code == 401


def test_list_summary_pagination_and_status_filter(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    rate(db, world, world.users["qa"], world.conversations[0])
    headers = bearer(db, world.users["qa"])
    data = client.get("/api/v1/calibration/sessions?per_page=1", headers=headers).get_json()
    (item,) = data["items"]
    assert item["title"] == "November calibration"
    assert item["status"] == "open"
    assert item["blind"] is True
    assert item["scorecard"]["name"] == "Calibration scorecard"
    assert item["facilitator"]["id"] == world.users["manager"].id
    assert (item["conversation_count"], item["rater_count"]) == (2, 3)
    assert item["you"] == {"facilitator": False, "rater": True, "submitted": 1}
    assert data["next"] is None
    revealed_only = client.get("/api/v1/calibration/sessions?status=revealed", headers=headers)
    assert revealed_only.get_json()["items"] == []
    bad = client.get("/api/v1/calibration/sessions?status=blind", headers=headers)
    assert bad.status_code == 400
    assert "'status'" in bad.get_json()["error"]["message"]


# The blind rule ---------------------------------------------------------------------------------


@pytest.fixture
def blind_world(db: Session, world: CalibrationWorld) -> CalibrationWorld:
    """In-house and Northwind have submitted both conversations, Lumen nothing; a benchmark
    is recorded already."""
    rate(db, world, world.users["qa"], world.conversations[0], MIXED)
    rate(db, world, world.users["qa"], world.conversations[1], MIXED)
    for conversation in world.conversations:
        rate(
            db,
            world,
            world.users["northwind_qa"],
            conversation,
            LENIENT,
            comments={"empathy": SECRET_COMMENT},
        )
    services.save_benchmark(
        db,
        world.calibration,
        world.conversations[0].id,
        world.card.answers(MIXED, {"greeting": "The benchmark's own reasoning"}),
        by=world.users["manager"],
    )
    db.commit()
    return world


@pytest.mark.parametrize(
    "who", ["admin", "manager", "qa", "northwind_qa", "lumen_qa", "northwind_viewer"]
)
def test_while_blind_nobody_gets_another_raters_answers_or_the_benchmark(
    client: FlaskClient, db: Session, blind_world: CalibrationWorld, who: str
) -> None:
    response = get(client, db, blind_world, who, "")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    if who != "northwind_qa":
        assert SECRET_COMMENT not in text
    assert "The benchmark's own reasoning" not in text
    data = response.get_json()
    assert "notes" not in data
    for item in data["items"]:
        assert "benchmark" not in item
        assert "ratings" not in item
        assert "answer_counts" not in item
    is_rater = who in ("qa", "northwind_qa", "lumen_qa")
    assert all(("yours" in item) == is_rater for item in data["items"])
    assert ("progress" in data) == (who in ("admin", "manager"))


def test_a_rater_sees_only_their_own_rating_while_blind(
    client: FlaskClient, db: Session, blind_world: CalibrationWorld
) -> None:
    mine = get(client, db, blind_world, "northwind_qa", "").get_json()
    yours = mine["items"][0]["yours"]
    assert yours["status"] == "submitted"
    assert yours["score"] == 100.0
    assert {a["criterion"]: a["value"] for a in yours["answers"]} == {
        "greeting": "yes",
        "empathy": 4,
        "accuracy": 3,
        "identity": "yes",
    }
    assert {a["criterion"]: a["comment"] for a in yours["answers"]}["empathy"] == SECRET_COMMENT
    lumen = get(client, db, blind_world, "lumen_qa", "").get_json()
    assert [item["yours"] for item in lumen["items"]] == [None, None]
    assert [criterion["key"] for criterion in lumen["criteria"]] == [
        "greeting",
        "empathy",
        "accuracy",
        "identity",
    ]


def test_facilitators_see_progress_counts_while_blind(
    client: FlaskClient, db: Session, blind_world: CalibrationWorld
) -> None:
    data = get(client, db, blind_world, "manager", "").get_json()
    progress = {row["rater"]["id"]: (row["submitted"], row["done"]) for row in data["progress"]}
    users = blind_world.users
    assert progress == {
        users["qa"].id: (2, True),
        users["northwind_qa"].id: (2, True),
        users["lumen_qa"].id: (0, False),
    }
    assert data["you"]["facilitator"] is True
    assert "yours" not in data["items"][0]


@pytest.mark.parametrize(("who", "status"), [("manager", 409), ("admin", 409), ("qa", 404)])
def test_results_wait_for_the_reveal(
    client: FlaskClient, db: Session, blind_world: CalibrationWorld, who: str, status: int
) -> None:
    response = get(client, db, blind_world, who, "/results")
    assert response.status_code == status
    if status == 409:
        assert response.get_json()["error"]["message"] == "The results appear after the reveal."


# Rating through the API -------------------------------------------------------------------------


def test_a_rater_saves_a_draft_then_submits(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    conversation_id = world.conversations[0].id
    draft = post_rating(
        client,
        db,
        world,
        "qa",
        {
            "conversation_id": conversation_id,
            "answers": {"greeting": "no", "empathy": 3},
            "comments": {"empathy": "Warm"},
        },
    )
    assert draft.status_code == 201, draft.get_json()
    assert draft.get_json()["status"] == "draft"
    assert draft.get_json()["score"] is None
    assert draft.headers["Location"].endswith(
        f"/api/v1/calibration/sessions/{world.calibration.id}"
    )
    submitted = post_rating(
        client,
        db,
        world,
        "qa",
        {
            "conversation_id": conversation_id,
            "answers": {"accuracy": 2, "identity": "yes"},
            "overall_comment": "Fine.",
            "submit": True,
        },
    )
    assert submitted.status_code == 200, submitted.get_json()
    data = submitted.get_json()
    assert data["status"] == "submitted"
    assert data["score"] == pytest.approx(MIXED_SCORE)
    assert data["overall_comment"] == "Fine."
    assert {a["criterion"]: a["value"] for a in data["answers"]} == {
        "greeting": "no",
        "empathy": 3,
        "accuracy": 2,
        "identity": "yes",
    }
    rating = db.scalars(select(CalibrationRating)).one()
    assert rating.status == RatingStatus.SUBMITTED
    assert rating.rater_id == world.users["qa"].id


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"conversation_id": "one", "answers": [], "submit": "yes", "score": 5},
            [
                ("score", "is not a field of a rating"),
                ("conversation_id", "must be a whole number"),
                ("answers", "must be an object keyed by criterion key"),
                ("submit", "must be true or false"),
            ],
        ),
        ({"answers": {}}, [("conversation_id", "is required")]),
        (
            {"conversation_id": 999_999, "answers": {"greeting": "yes"}},
            [("conversation_id", "is not a conversation of this session")],
        ),
        (
            {"answers": {"empathy": 9, "tone": "yes", "greeting": "perhaps"}},
            [
                ("answers.empathy", "rate from 1 to 4, got 9"),
                ("answers.greeting", "answer yes or no, got 'perhaps'"),
                ("answers.tone", "is not a criterion of this scorecard version"),
            ],
        ),
        (
            {"answers": {"greeting": "yes", "empathy": 4}, "submit": True},
            [
                ("answers.accuracy", "is required to submit"),
                ("answers.identity", "is required to submit"),
            ],
        ),
    ],
)
def test_bad_ratings_answer_422_listing_every_problem_and_save_nothing(
    client: FlaskClient,
    db: Session,
    world: CalibrationWorld,
    body: dict[str, Any],
    errors: list[tuple[str, str]],
) -> None:
    if "conversation_id" not in body and body != {"answers": {}}:
        body = {"conversation_id": world.conversations[0].id, **body}
    response = post_rating(client, db, world, "qa", body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["message"].startswith("The rating was not saved")
    assert [(e["field"], e["message"]) for e in error["errors"]] == errors
    assert rating_count(db) == 0


def test_rating_needs_a_rater_of_an_open_session(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    body = {"conversation_id": world.conversations[0].id, "answers": {"greeting": "yes"}}
    assert post_rating(client, db, world, "manager", body).status_code == 403  # not a rater
    assert post_rating(client, db, world, "admin", body).status_code == 403  # not a rating role
    assert post_rating(client, db, world, "northwind_viewer", body).status_code == 403
    assert post_rating(client, db, world, "other_qa", body).status_code == 404  # out of sight
    assert post_rating(client, db, world, "acme_qa", body).status_code == 404
    as_text = client.post(
        f"/api/v1/calibration/sessions/{world.calibration.id}/ratings",
        data="greeting=yes",
        headers=bearer(db, world.users["qa"]),
    )
    assert as_text.status_code == 415
    assert rating_count(db) == 0
    revealed(db, world)
    frozen = post_rating(client, db, world, "qa", body)
    assert frozen.status_code == 409
    assert "can no longer change" in frozen.get_json()["error"]["message"]


# After the reveal -------------------------------------------------------------------------------


def _raters_shown(data: dict[str, Any]) -> set[int]:
    return {rating["rater"]["id"] for item in data["items"] for rating in item["ratings"]}


@pytest.mark.parametrize(
    ("who", "shown"),
    [
        ("manager", {"qa", "northwind_qa", "lumen_qa"}),
        ("admin", {"qa", "northwind_qa", "lumen_qa"}),
        ("qa", {"qa", "northwind_qa", "lumen_qa"}),  # in-house staff see every rater
        ("northwind_qa", {"northwind_qa"}),
        ("lumen_qa", {"lumen_qa"}),
        ("northwind_viewer", {"northwind_qa"}),
    ],
)
def test_after_the_reveal_ratings_and_benchmark_show_within_partner_scope(
    client: FlaskClient, db: Session, world: CalibrationWorld, who: str, shown: set[str]
) -> None:
    revealed(db, world)
    data = get(client, db, world, who, "").get_json()
    assert data["blind"] is False
    assert _raters_shown(data) == {world.users[key].id for key in shown}
    assert {rater["id"] for rater in data["raters"]} == {world.users[key].id for key in shown}
    item = data["items"][0]
    assert item["benchmark"]["score"] == pytest.approx(MIXED_SCORE)
    # Everyone sees how the answers were spread, without who gave them.
    assert item["answer_counts"]["greeting"] == {"no": 2, "yes": 1}
    assert item["answer_counts"]["empathy"] == {"1": 1, "3": 1, "4": 1}
    text = get(client, db, world, who, "").get_data(as_text=True)
    assert (SECRET_COMMENT in text) == ("northwind_qa" in shown)


def test_notes_by_raters_out_of_scope_do_not_name_their_partner(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    revealed(db, world)
    services.add_note(db, world.calibration, "Empathy was there.", by=world.users["northwind_qa"])
    services.add_note(db, world.calibration, "Let us agree.", by=world.users["manager"])
    db.commit()
    lumen = get(client, db, world, "lumen_qa", "").get_json()
    assert [note["author"] for note in lumen["notes"]] == [
        {"id": None, "name": "A rater of another partner"},
        {"id": world.users["manager"].id, "name": world.users["manager"].name},
    ]
    northwind = get(client, db, world, "northwind_viewer", "").get_json()
    assert northwind["notes"][0]["author"]["id"] == world.users["northwind_qa"].id


@pytest.mark.parametrize(
    ("who", "shown", "groups"),
    [
        ("manager", {"qa", "northwind_qa", "lumen_qa"}, ["In-house", "Lumen", "Northwind"]),
        ("qa", {"qa", "northwind_qa", "lumen_qa"}, ["In-house", "Lumen", "Northwind"]),
        ("northwind_qa", {"northwind_qa"}, ["In-house", "Northwind"]),
        ("northwind_viewer", {"northwind_qa"}, ["In-house", "Northwind"]),
        ("lumen_qa", {"lumen_qa"}, ["In-house", "Lumen"]),
    ],
)
def test_results_are_cut_to_the_raters_the_caller_may_see(
    client: FlaskClient,
    db: Session,
    world: CalibrationWorld,
    who: str,
    shown: set[str],
    groups: list[str],
) -> None:
    revealed(db, world)
    response = get(client, db, world, who, "/results?intervals=false")
    assert response.status_code == 200, response.get_json()
    data = response.get_json()
    assert {row["rater"]["id"] for row in data["raters"]} == {world.users[key].id for key in shown}
    assert len(data["heatmap"]["raters"]) == len(shown)
    # Group figures: in-house and, for a partner user, only their own partner's group.
    assert [group["label"] for group in data["groups"]] == groups
    assert data["all_raters"]["raters"] == 3
    assert data["has_benchmark"] is True
    assert isinstance(data["overall"]["alpha"], float)
    assert data["overall"]["ci"] is None
    bias = {row["rater"]["group"]["label"]: row["bias"] for row in data["raters"]}
    expected = {"In-house": "on target", "Northwind": "lenient", "Lumen": "strict"}
    assert bias == {label: expected[label] for label in bias}
    levels = {row["criterion"]: row["level"] for row in data["criteria"]}
    assert levels == {
        "greeting": "nominal",
        "empathy": "ordinal",
        "accuracy": "interval",
        "identity": "nominal",
    }


def test_results_come_with_bootstrap_intervals_by_default(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    revealed(db, world)
    data = get(client, db, world, "manager", "/results").get_json()
    low, high = data["overall"]["ci"]
    assert low <= data["overall"]["alpha"] <= high
    in_house, *partners = data["groups"]
    assert in_house["difference_to_in_house"] is None
    assert partners[0]["difference_to_in_house"]["n_group"] == 2


def test_results_of_a_session_out_of_sight_are_404(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    revealed(db, world)
    assert get(client, db, world, "acme_viewer", "/results").status_code == 404
    assert get(client, db, world, "other_qa", "/results").status_code == 404


def test_raters_read_the_transcript_of_a_session_conversation(
    client: FlaskClient, db: Session, world: CalibrationWorld
) -> None:
    conversation = world.conversations[0]
    rate(db, world, world.users["northwind_qa"], conversation, LENIENT, submit=False)
    # The conversation is in-house: the partner-scoped conversations API does not show it...
    plain = client.get(
        f"/api/v1/conversations/{conversation.id}", headers=bearer(db, world.users["northwind_qa"])
    )
    assert plain.status_code == 404
    # ...but the session lets its partner rater read it, with their own draft.
    path = f"/conversations/{conversation.id}"
    response = get(client, db, world, "northwind_qa", path)
    assert response.status_code == 200
    body = response.get_json()
    assert body["conversation"]["id"] == conversation.id
    assert [m["text"] for m in body["conversation"]["messages"]] == ["Question number 1."]
    assert body["yours"]["status"] == "draft"
    assert body["yours"]["answers"]
    assert get(client, db, world, "manager", path).get_json()["yours"] is None
    for who in ("other_qa", "northwind_viewer", "acme_qa", "agent"):
        assert get(client, db, world, who, path).status_code in (403, 404), who
    assert get(client, db, world, "qa", f"/conversations/{conversation.id + 999}").status_code == (
        404
    )
