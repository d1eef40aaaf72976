"""The calibration workflow services: creating, blind rating, reveal, benchmark, decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from qa_app.calibration import services
from qa_app.calibration.models import (
    CalibrationGroupResult,
    CalibrationRating,
    RatingStatus,
    SessionStatus,
)
from qa_app.calibration.services import CalibrationAnswerError, CalibrationError, SessionInput
from qa_app.org.roles import Role
from qa_app.sampling import engine
from qa_app.scorecards.models import VersionStatus
from tests.conftest import Factory
from tests.reviews.factories import MIXED, MIXED_SCORE, PERFECT, Card, published_scorecard

FUTURE = datetime.now(UTC) + timedelta(days=7)


def _setup(db: Any, make: Factory, conversations: int = 2) -> dict[str, Any]:
    card = published_scorecard(db)
    north, lumen = make.partner("North"), make.partner("Lumen")
    in_house_agent = make.agent(make.team("Tier 1"))
    return {
        "card": card,
        "north": north,
        "lumen": lumen,
        "conversations": [make.conversation(in_house_agent) for _ in range(conversations)],
        "north_conversation": make.conversation(make.agent(make.team("N team", north))),
        "facilitator": make.user(Role.MANAGER),
        "qa": make.user(Role.QA_SPECIALIST),
        "north_qa": make.user(Role.PARTNER_QA, partner=north),
        "lumen_qa": make.user(Role.PARTNER_QA, partner=lumen),
    }


def _create(db: Any, world: dict[str, Any], **changes: Any) -> Any:
    data = {
        "title": "November calibration",
        "scorecard_version_id": world["card"].version.id,
        "conversation_ids": [c.id for c in world["conversations"]],
        "rater_ids": [world[k].id for k in ("qa", "north_qa", "lumen_qa")],
        "due_at": FUTURE,
    }
    data.update(changes)
    calibration = services.create_session(db, SessionInput(**data), by=world["facilitator"])
    db.commit()
    return calibration


def _rate_all(db: Any, calibration: Any, world: dict[str, Any], values: dict[str, dict]) -> None:
    card: Card = world["card"]
    for key, answers in values.items():
        for conversation in world["conversations"]:
            services.save_rating(
                db, calibration, conversation.id, card.answers(answers), by=world[key], submit=True
            )
    db.commit()


def test_create_session_with_items_and_raters_and_partner_snapshot(db: Any, make: Factory) -> None:
    world = _setup(db, make)
    calibration = _create(db, world)
    assert calibration.status == SessionStatus.OPEN
    assert [item.conversation_id for item in calibration.items] == [
        c.id for c in world["conversations"]
    ]
    assert {r.user_id: r.partner_id for r in calibration.raters} == {
        world["qa"].id: None,
        world["north_qa"].id: world["north"].id,
        world["lumen_qa"].id: world["lumen"].id,
    }


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"title": "  "}, "Give the session a title."),
        ({"conversation_ids": []}, "Pick at least one conversation."),
        ({"due_at": datetime(2020, 1, 1, tzinfo=UTC)}, "The due date must be in the future."),
        ({"tolerance": -1}, "The tolerance is between 0 and 100 points."),
        ({"conversation_ids": [987654]}, "Conversation #987654 does not exist."),
    ],
)
def test_create_refuses_bad_input(
    db: Any, make: Factory, changes: dict[str, Any], message: str
) -> None:
    world = _setup(db, make)
    with pytest.raises(CalibrationError, match=message.replace("#", "#").replace(".", r"\.")):
        _create(db, world, **changes)


def test_create_needs_two_eligible_raters_and_a_published_version(db: Any, make: Factory) -> None:
    world = _setup(db, make)
    with pytest.raises(CalibrationError, match="at least 2 raters"):
        _create(db, world, rater_ids=[world["qa"].id])
    agent_user = make.user(Role.AGENT)
    with pytest.raises(CalibrationError, match="cannot rate"):
        _create(db, world, rater_ids=[world["qa"].id, agent_user.id])
    world["card"].version.status = VersionStatus.DRAFT
    db.commit()
    with pytest.raises(CalibrationError, match="published scorecard version"):
        _create(db, world)


def test_only_facilitators_create(db: Any, make: Factory) -> None:
    world = _setup(db, make)
    world["facilitator"] = world["qa"]
    with pytest.raises(CalibrationError, match="administrators and managers"):
        _create(db, world)


def test_partner_conversation_refused_when_another_partner_rates(db: Any, make: Factory) -> None:
    world = _setup(db, make)
    north_id = world["north_conversation"].id
    with pytest.raises(CalibrationError, match=f"Conversation #{north_id} belongs to a partner"):
        _create(db, world, conversation_ids=[north_id])
    # With only in-house and North raters, North's conversation is readable by all of them.
    calibration = _create(
        db, world, conversation_ids=[north_id], rater_ids=[world["qa"].id, world["north_qa"].id]
    )
    assert calibration.items[0].conversation_id == north_id


def test_draft_then_submit_scores_and_keeps_answers(db: Any, make: Factory) -> None:
    world = _setup(db, make, conversations=1)
    calibration = _create(db, world)
    card: Card = world["card"]
    conversation = world["conversations"][0]
    draft = services.save_rating(
        db, calibration, conversation.id, card.answers({"greeting": "no"}), by=world["qa"]
    )
    assert draft.status == RatingStatus.DRAFT
    assert draft.score is None
    rest = {key: value for key, value in MIXED.items() if key != "greeting"}
    rating = services.save_rating(
        db, calibration, conversation.id, card.answers(rest), by=world["qa"], submit=True
    )
    assert rating.id == draft.id
    assert rating.status == RatingStatus.SUBMITTED
    assert rating.score == MIXED_SCORE


def test_submit_reports_missing_and_invalid_answers_and_saves_nothing(
    db: Any, make: Factory
) -> None:
    world = _setup(db, make, conversations=1)
    calibration = _create(db, world)
    card: Card = world["card"]
    conversation_id = world["conversations"][0].id
    with pytest.raises(CalibrationAnswerError, match="Not answered") as missing:
        services.save_rating(
            db,
            calibration,
            conversation_id,
            card.answers({"greeting": "yes"}),
            by=world["qa"],
            submit=True,
        )
    assert set(missing.value.criterion_ids) == {
        card.criteria[k].id for k in ("empathy", "accuracy", "identity")
    }
    db.rollback()
    with pytest.raises(CalibrationAnswerError, match="empathy"):
        services.save_rating(
            db, calibration, conversation_id, card.answers({"empathy": "9"}), by=world["qa"]
        )
    db.rollback()
    assert db.scalars(select(CalibrationRating)).all() == []


def test_only_raters_of_the_session_rate_its_conversations(db: Any, make: Factory) -> None:
    world = _setup(db, make, conversations=1)
    calibration = _create(db, world)
    card: Card = world["card"]
    outsider = make.user(Role.QA_SPECIALIST)
    with pytest.raises(CalibrationError, match="not a rater"):
        services.save_rating(
            db, calibration, world["conversations"][0].id, card.answers(PERFECT), by=outsider
        )
    with pytest.raises(CalibrationError, match="not part of this session"):
        services.save_rating(
            db, calibration, world["north_conversation"].id, card.answers(PERFECT), by=world["qa"]
        )


def test_reveal_waits_for_everyone_or_the_due_date(db: Any, make: Factory) -> None:
    world = _setup(db, make)
    calibration = _create(db, world)
    _rate_all(db, calibration, world, {"qa": PERFECT, "north_qa": MIXED})
    progress = {p.rater.user_id: (p.submitted, p.total) for p in services.progress(db, calibration)}
    assert progress == {
        world["qa"].id: (2, 2),
        world["north_qa"].id: (2, 2),
        world["lumen_qa"].id: (0, 2),
    }
    with pytest.raises(CalibrationError, match="once every rater has submitted"):
        services.reveal(db, calibration, by=world["facilitator"])
    with pytest.raises(CalibrationError, match="administrators and managers"):
        services.reveal(db, calibration, by=world["qa"])
    calibration.due_at = datetime.now(UTC) - timedelta(minutes=1)
    db.commit()
    services.reveal(db, calibration, by=world["facilitator"])
    db.commit()
    assert calibration.status == SessionStatus.REVEALED
    assert calibration.revealed_by_id == world["facilitator"].id
    with pytest.raises(CalibrationError, match="can no longer change"):
        services.save_rating(
            db,
            calibration,
            world["conversations"][0].id,
            world["card"].answers(PERFECT),
            by=world["lumen_qa"],
        )


def test_reveal_when_all_submitted_stores_group_results(db: Any, make: Factory) -> None:
    world = _setup(db, make)
    calibration = _create(db, world)
    _rate_all(db, calibration, world, {"qa": PERFECT, "north_qa": MIXED, "lumen_qa": PERFECT})
    services.reveal(db, calibration, by=world["facilitator"])
    db.commit()
    groups = {
        row.group_key: row
        for row in db.scalars(
            select(CalibrationGroupResult).where(
                CalibrationGroupResult.session_id == calibration.id
            )
        )
    }
    assert {"all", "in_house", f"partner:{world['north'].id}"} <= set(groups)
    assert groups["in_house"].raters == 1


def test_consensus_is_majority_and_lower_median_and_reports_ties(db: Any, make: Factory) -> None:
    world = _setup(db, make, conversations=1)
    calibration = _create(db, world)
    _rate_all(
        db,
        calibration,
        world,
        {
            "qa": {"greeting": "yes", "empathy": "4", "accuracy": "3", "identity": "yes"},
            "north_qa": {"greeting": "yes", "empathy": "2", "accuracy": "2", "identity": "no"},
            "lumen_qa": {"greeting": "no", "empathy": "3", "accuracy": "1", "identity": "na"},
        },
    )
    services.reveal(db, calibration, by=world["facilitator"])
    outcome = services.adopt_consensus(db, calibration, by=world["facilitator"])
    # identity: yes / no / na, a three-way tie: no consensus, so no benchmark is set.
    assert outcome.adopted == []
    assert outcome.undecided == [f"conversation #{world['conversations'][0].id}: Verifies identity"]
    criterion = world["card"].criteria
    assert services.consensus_value(criterion["empathy"], ["4", "2", "3"]) == "3"
    assert services.consensus_value(criterion["accuracy"], ["3", "na", "1"]) == "1"
    assert services.consensus_value(criterion["accuracy"], ["na", "na", "1"]) == "na"
    assert services.consensus_value(criterion["accuracy"], ["na", "2"]) is None
    assert services.consensus_value(criterion["greeting"], ["yes", "yes", "no"]) == "yes"
    assert services.consensus_value(criterion["empathy"], ["4", "1"]) == "1"


def test_consensus_becomes_the_benchmark(db: Any, make: Factory) -> None:
    world = _setup(db, make, conversations=1)
    calibration = _create(db, world)
    _rate_all(db, calibration, world, {"qa": PERFECT, "north_qa": PERFECT, "lumen_qa": MIXED})
    with pytest.raises(CalibrationError, match="after the reveal"):
        services.adopt_consensus(db, calibration, by=world["facilitator"])
    services.reveal(db, calibration, by=world["facilitator"])
    outcome = services.adopt_consensus(db, calibration, by=world["facilitator"])
    assert outcome.adopted == [world["conversations"][0].id]
    benchmark = services.rating_of(db, calibration, world["conversations"][0].id, None)
    assert benchmark is not None
    assert benchmark.is_benchmark
    assert benchmark.score == 100.0


def test_benchmark_needs_every_answer_and_a_facilitator(db: Any, make: Factory) -> None:
    world = _setup(db, make, conversations=1)
    calibration = _create(db, world)
    card: Card = world["card"]
    conversation_id = world["conversations"][0].id
    with pytest.raises(CalibrationAnswerError, match="Not answered"):
        services.save_benchmark(
            db,
            calibration,
            conversation_id,
            card.answers({"greeting": "yes"}),
            by=world["facilitator"],
        )
    with pytest.raises(CalibrationError, match="administrators and managers"):
        services.save_benchmark(
            db, calibration, conversation_id, card.answers(PERFECT), by=world["qa"]
        )
    benchmark = services.save_benchmark(
        db, calibration, conversation_id, card.answers(MIXED), by=world["facilitator"]
    )
    assert benchmark.score == MIXED_SCORE
    again = services.save_benchmark(
        db, calibration, conversation_id, card.answers(PERFECT), by=world["facilitator"]
    )
    assert again.id == benchmark.id
    assert again.score == 100.0


def test_notes_open_after_reveal_and_a_decision_becomes_guidance(db: Any, make: Factory) -> None:
    world = _setup(db, make, conversations=1)
    calibration = _create(db, world)
    card: Card = world["card"]
    empathy = card.criteria["empathy"]
    with pytest.raises(CalibrationError, match="opens when the results are revealed"):
        services.add_note(db, calibration, "Too early", by=world["qa"])
    _rate_all(db, calibration, world, {"qa": PERFECT, "north_qa": PERFECT, "lumen_qa": MIXED})
    services.reveal(db, calibration, by=world["facilitator"])
    note = services.add_note(
        db,
        calibration,
        "Lumen reads empathy strictly.",
        by=world["lumen_qa"],
        conversation_id=world["conversations"][0].id,
    )
    assert note.author_id == world["lumen_qa"].id
    with pytest.raises(CalibrationError, match="Only the session's raters"):
        services.add_note(db, calibration, "Hello", by=make.user(Role.QA_SPECIALIST))
    with pytest.raises(CalibrationError, match="administrators and managers"):
        services.add_note(
            db, calibration, "Decide", by=world["qa"], criterion_id=empathy.id, is_decision=True
        )
    with pytest.raises(CalibrationError, match="choose one"):
        services.add_note(db, calibration, "Decide", by=world["facilitator"], is_decision=True)
    decision = services.add_note(
        db,
        calibration,
        "Naming the customer's frustration counts as Good.",
        by=world["facilitator"],
        criterion_id=empathy.id,
        is_decision=True,
    )
    draft = services.apply_decision(db, calibration, decision, by=world["facilitator"])
    db.commit()
    assert draft.status == VersionStatus.DRAFT
    assert draft.number == card.version.number + 1
    guidance = next(c.guidance for c in draft.criteria if c.key == "empathy")
    assert "Naming the customer's frustration counts as Good." in guidance
    assert "November calibration" in guidance
    assert decision.applied_to_version_id == draft.id
    # The published version the session pinned is unchanged.
    assert "Naming" not in empathy.guidance
    with pytest.raises(CalibrationError, match="already in the scorecard"):
        services.apply_decision(db, calibration, decision, by=world["facilitator"])


def test_conversations_in_a_session_are_not_sampled(db: Any, make: Factory) -> None:
    world = _setup(db, make, conversations=2)
    calibration = _create(db, world, conversation_ids=[world["conversations"][0].id])
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    candidates = {row.id for row in db.execute(engine.candidate_query({}, window))}
    assert calibration.items[0].conversation_id not in candidates
    assert world["conversations"][1].id in candidates


def test_sample_conversations_is_seeded_and_stays_in_house_for_mixed_partners(
    db: Any, make: Factory
) -> None:
    world = _setup(db, make, conversations=6)
    raters = [world["qa"], world["north_qa"], world["lumen_qa"]]
    first = services.sample_conversations(db, raters=raters, count=3, seed=7, period="2026-10")
    again = services.sample_conversations(db, raters=raters, count=3, seed=7, period="2026-10")
    assert first == again
    assert len(first) == 3
    assert world["north_conversation"].id not in first
    in_house = {c.id for c in world["conversations"]}
    assert set(first) <= in_house
    north_only = services.sample_conversations(
        db, raters=[world["qa"], world["north_qa"]], count=7, seed=1, period="2026-10"
    )
    assert world["north_conversation"].id in north_only
