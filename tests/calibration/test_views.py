"""Calibration sessions through the web client: creating, blind rating, reveal, discussion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration import services
from qa_app.calibration.models import (
    CalibrationNote,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.scorecards.models import ScorecardVersion, VersionStatus
from tests.calibration.factories import CalibrationWorld, calibration_world, rate
from tests.conftest import Factory, login
from tests.reviews.factories import MIXED, PERFECT, Card

RATER_A_COMMENT = "Rater A thinks the greeting was cold"
BENCHMARK_COMMENT = "Gold says the greeting was fine"


@pytest.fixture
def world(db: Session, make: Factory) -> CalibrationWorld:
    return calibration_world(db, make)


@pytest.fixture
def as_user(app: Flask) -> Any:
    """A logged-in client per user, so several people can act in one test."""

    def _client(user: User) -> FlaskClient:
        client = app.test_client()
        login(client, user)
        return client

    return _client


def session_url(world: CalibrationWorld, suffix: str = "") -> str:
    return f"/calibration/{world.calibration.id}{suffix}"


def rate_url(world: CalibrationWorld, index: int = 0) -> str:
    return session_url(world, f"/conversations/{world.conversations[index].id}/rate")


def benchmark_url(world: CalibrationWorld, index: int = 0) -> str:
    return session_url(world, f"/conversations/{world.conversations[index].id}/benchmark")


def scoring_data(card: Card, values: dict[str, str], **extra: str) -> dict[str, str]:
    data = {f"answer_{card.criteria[key].id}": value for key, value in values.items()}
    return {**data, **extra}


def reload(db: Session, world: CalibrationWorld) -> CalibrationSession:
    db.expire_all()
    return db.get(CalibrationSession, world.calibration.id)


def submit_all(db: Session, world: CalibrationWorld) -> None:
    for rater in world.raters:
        for conversation in world.conversations:
            rate(db, world, rater, conversation, MIXED if rater is world.raters[0] else PERFECT)


def reveal(db: Session, world: CalibrationWorld) -> None:
    submit_all(db, world)
    services.reveal(db, reload(db, world), by=world.users["manager"])
    db.commit()


# Creating a session ----------------------------------------------------------------------------


def session_form(world: CalibrationWorld, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "December calibration",
        "instructions": "Score as you would in a review.",
        "scorecard_version_id": str(world.card.version.id),
        "rater_ids": [str(world.users[key].id) for key in ("qa", "northwind_qa", "lumen_qa")],
        "due_on": (datetime.now(UTC).date() + timedelta(days=10)).isoformat(),
        "tolerance": "7.5",
        "source": "ids",
        "conversation_ids": ", ".join(str(c.id) for c in world.conversations),
        "seed": "1",
    }
    data.update(changes)
    return data


def test_manager_creates_a_session_from_listed_conversations(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    manager = as_user(world.users["manager"])
    page = manager.get("/calibration/new").get_data(as_text=True)
    assert 'label="In-house"' in page
    assert 'label="Partner: Northwind"' in page
    assert "Calibration scorecard · version 1" in page
    ids = "\n".join(f"#{c.id}" for c in reversed(world.conversations))
    response = manager.post("/calibration/new", data=session_form(world, conversation_ids=ids))
    assert response.status_code == 302
    created = db.scalars(
        select(CalibrationSession).where(CalibrationSession.title == "December calibration")
    ).one()
    assert response.headers["Location"].endswith(f"/calibration/{created.id}")
    assert [item.conversation_id for item in created.items] == [
        c.id for c in reversed(world.conversations)
    ]
    assert len(created.raters) == 3
    assert created.tolerance == 7.5
    assert created.facilitator_id == world.users["manager"].id
    listing = manager.get("/calibration/").get_data(as_text=True)
    assert "December calibration" in listing
    assert "November calibration" in listing


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rater_ids": []}, "Invite at least 2 raters."),
        ({"conversation_ids": "12, abc"}, "“abc” is not a conversation id"),
        ({"conversation_ids": "999999"}, "Conversation #999999 does not exist."),
        ({"source": "sample", "period": "2026-13"}, "there is no month 13"),
        ({"source": "sample", "period": ""}, "Which period?"),
    ],
)
def test_session_form_errors_re_render_the_form(
    world: CalibrationWorld, as_user: Any, changes: dict[str, Any], message: str
) -> None:
    manager = as_user(world.users["manager"])
    response = manager.post("/calibration/new", data=session_form(world, **changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="December calibration"' in page  # what was typed is kept


def test_manager_creates_a_session_from_a_sample(
    world: CalibrationWorld, db: Session, make: Factory, as_user: Any
) -> None:
    agent = make.agent(make.team("Tier 2"))
    october = [
        make.conversation(agent, started_at=datetime(2026, 10, day, 9, tzinfo=UTC))
        for day in range(5, 10)
    ]
    manager = as_user(world.users["manager"])
    data = session_form(world, source="sample", sample_size="3", period="2026-10", seed="42")
    assert manager.post("/calibration/new", data=data).status_code == 302
    created = db.scalars(
        select(CalibrationSession).where(CalibrationSession.title == "December calibration")
    ).one()
    chosen = {item.conversation_id for item in created.items}
    assert len(chosen) == 3
    # The world's session already holds its two conversations: they are never sampled again.
    assert chosen <= {c.id for c in october}


@pytest.mark.parametrize("role_key", ["qa", "northwind_qa", "northwind_viewer"])
def test_only_facilitators_create_sessions(
    world: CalibrationWorld, as_user: Any, role_key: str
) -> None:
    assert as_user(world.users[role_key]).get("/calibration/new").status_code == 403


# Rating, blind ----------------------------------------------------------------------------------


def test_rater_saves_a_draft_then_submits(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    qa = as_user(world.users["qa"])
    page = qa.get(rate_url(world)).get_data(as_text=True)
    assert "Question number 1." in page
    assert "Mind the identity check." in page
    card = world.card
    draft = scoring_data(
        card,
        {"greeting": "no"},
        **{f"comment_{card.criteria['greeting'].id}": "No name used."},
        save="Save draft",
    )
    response = qa.post(rate_url(world), data=draft)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(rate_url(world))
    rating = services.rating_of(db, reload(db, world), world.conversations[0].id, world.users["qa"])
    assert rating.status == RatingStatus.DRAFT
    assert "No name used." in qa.get(rate_url(world)).get_data(as_text=True)

    incomplete = qa.post(rate_url(world), data=scoring_data(card, {}, submit="Submit rating"))
    assert incomplete.status_code == 422
    assert "Not answered:" in incomplete.get_data(as_text=True)

    submitted = qa.post(rate_url(world), data=scoring_data(card, MIXED, submit="Submit rating"))
    assert submitted.status_code == 302
    assert submitted.headers["Location"].endswith(rate_url(world, 1))  # on to the next one
    rating = services.rating_of(db, reload(db, world), world.conversations[0].id, world.users["qa"])
    assert rating.status == RatingStatus.SUBMITTED
    assert rating.score == pytest.approx(61.11)
    detail = qa.get(session_url(world)).get_data(as_text=True)
    assert detail.count('data-testid="rating-status">submitted<') == 1
    listing = qa.get("/calibration/").get_data(as_text=True)
    assert "1 of 2 submitted" in listing


def test_saving_a_draft_of_a_submitted_rating_withdraws_the_submission(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    rate(db, world, world.users["qa"], world.conversations[0])
    qa = as_user(world.users["qa"])
    assert "withdraws your submission" in qa.get(rate_url(world)).get_data(as_text=True)
    qa.post(rate_url(world), data=scoring_data(world.card, {"greeting": ""}, save="Save draft"))
    rating = services.rating_of(db, reload(db, world), world.conversations[0].id, world.users["qa"])
    assert rating.status == RatingStatus.DRAFT
    assert rating.score is None


def test_blind_rule_hides_answers_and_benchmark_until_the_reveal(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    rater_a, rater_b = world.users["qa"], world.users["northwind_qa"]
    rate(db, world, rater_a, world.conversations[0], comments={"greeting": RATER_A_COMMENT})
    services.save_benchmark(
        db,
        reload(db, world),
        world.conversations[0].id,
        world.card.answers(PERFECT, {"greeting": BENCHMARK_COMMENT}),
        by=world.users["manager"],
    )
    db.commit()
    pages = {
        "rater B's scoring page": as_user(rater_b).get(rate_url(world)),
        "rater B's session page": as_user(rater_b).get(session_url(world)),
        "rater A's session page": as_user(rater_a).get(session_url(world)),
        "the facilitator's session page": as_user(world.users["manager"]).get(session_url(world)),
        "the partner viewer's session page": as_user(world.users["northwind_viewer"]).get(
            session_url(world)
        ),
    }
    for name, response in pages.items():
        page = response.get_data(as_text=True)
        assert response.status_code == 200, name
        assert RATER_A_COMMENT not in page, name
        assert BENCHMARK_COMMENT not in page, name
        assert 'data-testid="comparisons"' not in page, name
        assert "61.1" not in page, name  # no scores either
        assert "100.0" not in page, name
    facilitator = pages["the facilitator's session page"].get_data(as_text=True)
    assert f'data-testid="progress-{rater_a.id}"' in facilitator
    assert "1 of 2" in facilitator
    assert "0 of 2" in facilitator
    assert "benchmark recorded" in facilitator
    # The facilitator's own benchmark page shows the benchmark, never a rater's answers.
    bench = as_user(world.users["manager"]).get(benchmark_url(world)).get_data(as_text=True)
    assert BENCHMARK_COMMENT in bench
    assert RATER_A_COMMENT not in bench
    # Rater A sees their own answers.
    assert RATER_A_COMMENT in as_user(rater_a).get(rate_url(world)).get_data(as_text=True)


def test_reveal_is_refused_early_then_allowed_once_everyone_submitted(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    manager = as_user(world.users["manager"])
    page = manager.get(session_url(world)).get_data(as_text=True)
    assert 'data-testid="reveal-refusal"' in page
    assert "once every rater has submitted every conversation" in page
    refused = manager.post(session_url(world, "/reveal"), follow_redirects=True)
    assert "once every rater has submitted every conversation" in refused.get_data(as_text=True)
    assert reload(db, world).status == SessionStatus.OPEN

    rate(db, world, world.users["qa"], world.conversations[0], comments={"greeting": "Cold."})
    submit_all(db, world)
    page = manager.get(session_url(world)).get_data(as_text=True)
    assert 'data-testid="reveal-refusal"' not in page
    revealed = manager.post(session_url(world, "/reveal"), follow_redirects=True)
    text = revealed.get_data(as_text=True)
    assert "Results revealed." in text
    assert reload(db, world).status == SessionStatus.REVEALED
    assert 'data-testid="comparisons"' in text
    # Answers side by side: in-house staff see every rater, a partner rater only their own
    # partner's raters (here: themselves), never another partner's or in-house individuals.
    in_house_page = as_user(world.users["qa"]).get(session_url(world)).get_data(as_text=True)
    for rater in world.raters:
        assert rater.name in in_house_page
    assert "61.1" in in_house_page
    rater_page = as_user(world.users["lumen_qa"]).get(session_url(world)).get_data(as_text=True)
    assert world.users["lumen_qa"].name in rater_page
    assert world.users["northwind_qa"].name not in rater_page
    assert world.users["qa"].name not in rater_page
    assert "61.1" not in rater_page
    assert "100.0" in rater_page
    # A note by another partner's rater shows without their name or their partner's.
    services.add_note(db, reload(db, world), "Northwind's view.", by=world.users["northwind_qa"])
    db.commit()
    rater_page = as_user(world.users["lumen_qa"]).get(session_url(world)).get_data(as_text=True)
    assert "Northwind's view." in rater_page.replace("&#39;", "'")
    assert "A rater of another partner" in rater_page
    assert "A rater (Northwind" not in rater_page
    assert world.users["northwind_qa"].name not in rater_page
    # Ratings are frozen and the rating page is read only.
    lumen = as_user(world.users["lumen_qa"])
    assert 'data-testid="my-answers"' in lumen.get(rate_url(world)).get_data(as_text=True)
    frozen = lumen.post(rate_url(world), data=scoring_data(world.card, MIXED, submit="Submit"))
    assert frozen.status_code == 302
    rating = services.rating_of(
        db, reload(db, world), world.conversations[0].id, world.users["lumen_qa"]
    )
    assert rating.score == 100.0


def test_reveal_after_the_due_date_even_with_drafts(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    rate(db, world, world.users["qa"], world.conversations[0])
    reload(db, world).due_at = datetime.now(UTC) - timedelta(hours=1)
    db.commit()
    manager = as_user(world.users["manager"])
    assert manager.post(session_url(world, "/reveal")).status_code == 302
    assert reload(db, world).status == SessionStatus.REVEALED


def test_consensus_becomes_the_benchmark(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    reveal(db, world)  # two raters PERFECT, one MIXED: the consensus is PERFECT
    manager = as_user(world.users["manager"])
    response = manager.post(session_url(world, "/consensus"), follow_redirects=True)
    assert "Consensus adopted as the benchmark of 2 conversations." in response.get_data(
        as_text=True
    )
    benchmarks = db.scalars(
        select(CalibrationRating).where(
            CalibrationRating.session_id == world.calibration.id,
            CalibrationRating.is_benchmark.is_(True),
        )
    ).all()
    assert len(benchmarks) == 2
    assert {rating.score for rating in benchmarks} == {100.0}


def test_consensus_is_refused_while_blind(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    response = as_user(world.users["manager"]).post(
        session_url(world, "/consensus"), follow_redirects=True
    )
    assert "Adopt the consensus after the reveal" in response.get_data(as_text=True)


def test_benchmark_form_records_every_answer(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    manager = as_user(world.users["manager"])
    missing = manager.post(
        benchmark_url(world), data=scoring_data(world.card, {"greeting": "yes"}, submit="Save")
    )
    assert missing.status_code == 422
    assert "Not answered:" in missing.get_data(as_text=True)
    saved = manager.post(
        benchmark_url(world), data=scoring_data(world.card, PERFECT, submit="Save")
    )
    assert saved.status_code == 302
    benchmark = services.rating_of(db, reload(db, world), world.conversations[0].id, None)
    assert benchmark.score == 100.0


# Discussion and decisions ------------------------------------------------------------------------


def test_note_decision_and_apply_to_the_next_draft(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    reveal(db, world)
    greeting = world.card.criteria["greeting"]
    conversation = world.conversations[0]

    qa = as_user(world.users["qa"])
    empty = qa.post(session_url(world, "/notes"), data={"note-body": "  "})
    assert empty.status_code == 422
    assert "Write the note first." in empty.get_data(as_text=True)
    note = qa.post(
        session_url(world, "/notes"),
        data={
            "note-body": "I read the greeting strictly.",
            "note-conversation_id": conversation.id,
        },
    )
    assert note.status_code == 302
    # A rater cannot make a decision.
    refused = qa.post(
        session_url(world, "/notes"),
        data={"note-body": "Mine.", "note-criterion_id": greeting.id, "note-is_decision": "y"},
    )
    assert refused.status_code == 422
    assert "Only administrators and managers" in refused.get_data(as_text=True)

    manager = as_user(world.users["manager"])
    decided = manager.post(
        session_url(world, "/notes"),
        data={
            "note-body": "Greeting by first name is enough.",
            "note-criterion_id": greeting.id,
            "note-is_decision": "y",
        },
    )
    assert decided.status_code == 302
    decision = db.scalars(select(CalibrationNote).where(CalibrationNote.is_decision)).one()
    page = manager.get(session_url(world)).get_data(as_text=True)
    assert "I read the greeting strictly." in page
    assert "Apply to the next draft" in page

    applied = manager.post(session_url(world, f"/notes/{decision.id}/apply"))
    assert applied.status_code == 302
    draft = db.scalars(
        select(ScorecardVersion).where(
            ScorecardVersion.scorecard_id == world.card.scorecard.id,
            ScorecardVersion.status == VersionStatus.DRAFT,
        )
    ).one()
    guidance = next(c.guidance for c in draft.criteria if c.key == "greeting")
    assert "Greeting by first name is enough." in guidance
    assert "Uses the customer's name." in guidance  # the old guidance is kept
    again = manager.post(session_url(world, f"/notes/{decision.id}/apply"), follow_redirects=True)
    assert "already in the scorecard" in again.get_data(as_text=True)


def test_notes_wait_for_the_reveal(world: CalibrationWorld, db: Session, as_user: Any) -> None:
    qa = as_user(world.users["qa"])
    response = qa.post(session_url(world, "/notes"), data={"note-body": "Too early."})
    assert response.status_code == 302
    assert db.scalars(select(CalibrationNote)).all() == []


def test_a_note_of_another_session_cannot_be_applied_here(
    world: CalibrationWorld, db: Session, as_user: Any
) -> None:
    reveal(db, world)
    note = services.add_note(
        db,
        reload(db, world),
        "Decided.",
        by=world.users["manager"],
        criterion_id=world.card.criteria["greeting"].id,
        is_decision=True,
    )
    db.commit()
    other = services.create_session(
        db,
        services.SessionInput(
            title="Other",
            scorecard_version_id=world.card.version.id,
            conversation_ids=[world.conversations[0].id],
            rater_ids=[world.users["qa"].id, world.users["other_qa"].id],
            due_at=datetime.now(UTC) + timedelta(days=3),
        ),
        by=world.users["manager"],
    )
    db.commit()
    manager = as_user(world.users["manager"])
    assert manager.post(f"/calibration/{other.id}/notes/{note.id}/apply").status_code == 404


# Who sees what ---------------------------------------------------------------------------------


def test_partner_rater_reads_the_sessions_in_house_conversation_here_only(
    world: CalibrationWorld, as_user: Any
) -> None:
    northwind_qa = as_user(world.users["northwind_qa"])
    page = northwind_qa.get(rate_url(world)).get_data(as_text=True)
    assert "Question number 1." in page
    assert f"/conversations/{world.conversations[0].id}" not in page.replace(rate_url(world), "")
    # The generic conversation pages stay partner-scoped.
    generic = northwind_qa.get(f"/conversations/{world.conversations[0].id}")
    assert generic.status_code == 404


@pytest.mark.parametrize(
    ("user_key", "status"),
    [
        ("northwind_viewer", 200),  # Northwind has a rater in the session
        ("acme_viewer", 404),  # Acme has none
        ("acme_qa", 404),  # not a rater
        ("other_qa", 404),  # not a rater
        ("agent", 403),
        ("admin", 200),
    ],
)
def test_session_page_is_seen_only_by_those_concerned(
    world: CalibrationWorld, as_user: Any, user_key: str, status: int
) -> None:
    assert as_user(world.users[user_key]).get(session_url(world)).status_code == status


@pytest.mark.parametrize("user_key", ["other_qa", "acme_qa", "manager"])
def test_only_the_sessions_raters_open_its_rating_pages(
    world: CalibrationWorld, as_user: Any, user_key: str
) -> None:
    assert as_user(world.users[user_key]).get(rate_url(world)).status_code == 404


def test_conversation_outside_the_session_is_404(
    world: CalibrationWorld, make: Factory, as_user: Any
) -> None:
    stranger = make.conversation(make.agent(make.team("Tier 3")))
    url = session_url(world, f"/conversations/{stranger.id}/rate")
    assert as_user(world.users["qa"]).get(url).status_code == 404


def test_list_shows_only_visible_sessions(world: CalibrationWorld, as_user: Any) -> None:
    assert "November calibration" in as_user(world.users["northwind_viewer"]).get(
        "/calibration/"
    ).get_data(as_text=True)
    assert "November calibration" not in as_user(world.users["acme_viewer"]).get(
        "/calibration/"
    ).get_data(as_text=True)
    assert as_user(world.users["agent"]).get("/calibration/").status_code == 403


def test_navigation_shows_calibration_to_readers_only(
    world: CalibrationWorld, as_user: Any
) -> None:
    assert ">Calibration<" in as_user(world.users["acme_viewer"]).get("/").get_data(as_text=True)
    assert ">Calibration<" not in as_user(world.users["agent"]).get("/").get_data(as_text=True)
