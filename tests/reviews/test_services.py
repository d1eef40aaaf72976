"""The review workflow services: drafts, submission, acknowledgement, disputes, the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.org.models import Agent
from qa_app.org.roles import Role
from qa_app.reviews import services
from qa_app.reviews.answers import ReviewAnswerError
from qa_app.reviews.models import DisputeOutcome, Review, ReviewEvent, ReviewStatus
from qa_app.reviews.services import ReviewError
from qa_app.sampling.models import AssignmentStatus
from qa_app.scorecards.models import VersionStatus
from qa_app.scorecards.scoring import AnswerError
from tests.conftest import Factory
from tests.reviews.factories import (
    MIXED,
    MIXED_SCORE,
    PERFECT,
    Card,
    assignment,
    published_scorecard,
    submitted_review,
)


@dataclass
class World:
    session: Session
    card: Card
    agent: Agent
    agent_user: User
    qa: User
    manager: User
    conversation: Conversation


@pytest.fixture
def world(make: Factory, db: Session) -> World:
    partner = make.partner("Northwind")
    agent = make.agent(make.team("Northwind Chat", partner), name="Maya")
    return World(
        session=db,
        card=published_scorecard(db),
        agent=agent,
        agent_user=make.user(Role.AGENT, agent=agent),
        qa=make.user(Role.QA_SPECIALIST),
        manager=make.user(Role.MANAGER),
        conversation=make.conversation(agent),
    )


def events(session: Session, review: Review) -> list[ReviewEvent]:
    stmt = select(ReviewEvent).where(ReviewEvent.review_id == review.id).order_by(ReviewEvent.id)
    return list(session.scalars(stmt))


def submitted(world: World, values: dict[str, Any] | None = None) -> Review:
    return submitted_review(world.session, world.card, world.conversation, world.qa, values)


# Starting --------------------------------------------------------------------------------------


def test_start_review_pins_the_version_and_copies_agent_and_team(world: World) -> None:
    review = services.start_review(
        world.session, world.conversation, world.qa, version=world.card.version
    )
    assert review.status == ReviewStatus.DRAFT
    assert review.scorecard_version_id == world.card.version.id
    assert (review.agent_id, review.team_id) == (world.agent.id, world.agent.team_id)
    [created] = events(world.session, review)
    assert created.action == "created"
    assert created.actor_id == world.qa.id
    assert created.details["scorecard_version_id"] == world.card.version.id


def test_starting_again_returns_the_same_draft(world: World) -> None:
    first = services.start_review(
        world.session, world.conversation, world.qa, version=world.card.version
    )
    again = services.start_review(
        world.session, world.conversation, world.qa, version=world.card.version
    )
    assert again.id == first.id
    assert world.session.scalars(select(Review)).all() == [first]


def test_assignment_pins_the_newest_published_version_and_is_in_progress(
    world: World, db: Session, make: Factory
) -> None:
    pinned = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    world.card.version.status = VersionStatus.RETIRED
    second = published_scorecard(db, scorecard=world.card.scorecard)
    assert second.version.number == 2
    other = make.conversation(world.agent)
    work = assignment(db, other, world.card, world.qa)
    review = services.start_review(db, other, world.qa, assignment=work)
    assert review.scorecard_version_id == second.version.id
    assert review.assignment_id == work.id
    assert work.status == AssignmentStatus.IN_PROGRESS
    assert pinned.scorecard_version_id == world.card.version.id  # earlier reviews keep theirs


def test_unassigned_assignment_is_claimed_by_whoever_starts_it(world: World, db: Session) -> None:
    work = assignment(db, world.conversation, world.card)
    services.start_review(db, world.conversation, world.qa, assignment=work)
    assert work.reviewer_id == world.qa.id


def test_an_assignment_joins_the_draft_already_started(world: World, db: Session) -> None:
    draft = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    work = assignment(db, world.conversation, world.card, world.qa)
    assert services.start_review(db, world.conversation, world.qa, assignment=work) is draft
    assert draft.assignment_id == work.id
    assert work.status == AssignmentStatus.IN_PROGRESS
    attached = events(db, draft)[-1]
    assert attached.details == {"assignment_id": {"from": None, "to": work.id}}
    services.save_draft(db, draft, world.card.answers(PERFECT), "", by=world.qa)
    services.submit_review(db, draft, by=world.qa)
    with pytest.raises(ReviewError, match="already been reviewed"):
        services.start_review(db, world.conversation, world.qa, assignment=work)


@pytest.mark.parametrize(
    ("status", "message"),
    [(AssignmentStatus.DONE, "done"), (AssignmentStatus.SKIPPED, "skipped")],
)
def test_finished_assignments_cannot_be_started(
    world: World, db: Session, status: AssignmentStatus, message: str
) -> None:
    work = assignment(db, world.conversation, world.card, world.qa, status=status)
    with pytest.raises(ReviewError, match=message):
        services.start_review(db, world.conversation, world.qa, assignment=work)


def test_another_reviewers_assignment_is_refused(world: World, db: Session, make: Factory) -> None:
    work = assignment(db, world.conversation, world.card, make.user(Role.QA_SPECIALIST))
    with pytest.raises(ReviewError, match="another reviewer"):
        services.start_review(db, world.conversation, world.qa, assignment=work)


def test_nobody_reviews_their_own_conversations(world: World, make: Factory, db: Session) -> None:
    # A QA specialist who also has an agent profile, e.g. a former agent.
    own = make.agent(name="Former agent")
    qa_agent = make.user(Role.QA_SPECIALIST, agent=own)
    with pytest.raises(ReviewError, match="your own conversations"):
        services.start_review(db, make.conversation(own), qa_agent, version=world.card.version)


def test_partner_qa_reviews_only_their_partners_conversations(
    world: World, make: Factory, db: Session
) -> None:
    other = make.user(Role.PARTNER_QA, partner=make.partner("Lumen"))
    with pytest.raises(ReviewError, match="may not review"):
        services.start_review(db, world.conversation, other, version=world.card.version)
    own = make.user(Role.PARTNER_QA, partner=db.get(Agent, world.agent.id).team.partner)
    review = services.start_review(db, world.conversation, own, version=world.card.version)
    assert review.reviewer_id == own.id


@pytest.mark.parametrize("role", [Role.AGENT, Role.PARTNER_VIEWER])
def test_roles_that_do_not_review_cannot_start(world: World, make: Factory, role: Role) -> None:
    user = make.user(role)
    with pytest.raises(ReviewError):
        services.start_review(world.session, world.conversation, user, version=world.card.version)


def test_only_published_versions_are_used(world: World, db: Session) -> None:
    world.card.version.status = VersionStatus.DRAFT
    db.commit()
    with pytest.raises(ReviewError, match="not published"):
        services.start_review(db, world.conversation, world.qa, version=world.card.version)
    with pytest.raises(ReviewError, match="Choose a scorecard"):
        services.start_review(db, world.conversation, world.qa)


# Drafts ----------------------------------------------------------------------------------------


def test_draft_saves_partial_answers_and_records_a_diff(world: World, db: Session) -> None:
    review = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    answers = world.card.answers({"greeting": "yes"}, {"empathy": "Warm tone"})
    diff = services.save_draft(db, review, answers, "Good start", by=world.qa)
    assert diff["answers"]["greeting"] == {
        "from": {"value": None, "comment": ""},
        "to": {"value": "yes", "comment": ""},
    }
    assert diff["answers"]["empathy"]["to"] == {"value": None, "comment": "Warm tone"}
    assert diff["overall_comment"] == {"from": "", "to": "Good start"}
    saved = events(db, review)[-1]
    assert (saved.action, saved.actor_id, saved.details) == ("saved", world.qa.id, diff)

    changed = services.save_draft(
        db, review, world.card.answers({"greeting": "no"}), None, by=world.qa
    )
    assert changed == {
        "answers": {
            "greeting": {
                "from": {"value": "yes", "comment": ""},
                "to": {"value": "no", "comment": ""},
            }
        }
    }
    assert review.overall_comment == "Good start"  # None leaves it alone


def test_saving_nothing_new_records_nothing(world: World, db: Session) -> None:
    review = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    answers = world.card.answers({"greeting": "yes"})
    services.save_draft(db, review, answers, "", by=world.qa)
    before = len(events(db, review))
    assert services.save_draft(db, review, answers, "", by=world.qa) == {}
    assert len(events(db, review)) == before


def test_only_the_reviewer_edits_a_draft(world: World, db: Session, make: Factory) -> None:
    review = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    with pytest.raises(ReviewError, match="Only the reviewer"):
        services.save_draft(db, review, {}, "x", by=make.user(Role.QA_SPECIALIST))
    with pytest.raises(ReviewError, match="Only the reviewer"):
        services.submit_review(db, review, by=world.manager)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("empathy", "5", r"Shows empathy \(empathy\): rate from 1 to 4, got 5"),
        ("accuracy", "many", r"Gives accurate information \(accuracy\): answer a whole number"),
        ("empathy", "na", r"Shows empathy \(empathy\): N/A is not allowed"),
        ("greeting", "maybe", r"Greets the customer \(greeting\): answer yes or no"),
    ],
)
def test_invalid_answers_are_refused_naming_the_criterion(
    world: World, db: Session, key: str, value: str, message: str
) -> None:
    review = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    with pytest.raises(AnswerError, match=message) as caught:
        services.save_draft(db, review, world.card.answers({key: value}), "", by=world.qa)
    assert caught.value.criterion_ids == (world.card.criteria[key].id,)  # type: ignore[attr-defined]
    assert review.answers == []


def test_a_criterion_of_another_version_is_refused(world: World, db: Session) -> None:
    other = published_scorecard(db, name="Other")
    review = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    with pytest.raises(ReviewError, match="not on this review's scorecard"):
        services.save_draft(db, review, other.answers({"greeting": "yes"}), "", by=world.qa)


# Submitting ------------------------------------------------------------------------------------


def test_submit_refuses_missing_answers_naming_every_criterion(world: World, db: Session) -> None:
    review = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    services.save_draft(db, review, world.card.answers({"greeting": "yes"}), "", by=world.qa)
    with pytest.raises(ReviewAnswerError) as caught:
        services.submit_review(db, review, by=world.qa)
    message = str(caught.value)
    assert "Shows empathy (empathy)" in message
    assert "Gives accurate information (accuracy)" in message
    assert "Verifies identity (identity)" in message
    assert "greeting" not in message
    assert review.status == ReviewStatus.DRAFT


def test_submit_scores_and_stores_the_result_with_the_answers(world: World, db: Session) -> None:
    work = assignment(db, world.conversation, world.card, world.qa)
    review = services.start_review(db, world.conversation, world.qa, assignment=work)
    services.save_draft(db, review, world.card.answers(MIXED), "", by=world.qa)
    services.submit_review(db, review, by=world.qa)
    db.commit()
    db.expire_all()
    stored = db.get(Review, review.id)
    assert stored is not None
    assert stored.status == ReviewStatus.SUBMITTED
    assert stored.score == pytest.approx(MIXED_SCORE)
    assert stored.auto_failed is False
    # Opening: greeting "no" -> 0; Resolution: (2/3*2 + 2/3*2 + 1) / 5 = 73.33
    assert stored.section_scores == {"Opening": 0.0, "Resolution": pytest.approx(73.33)}
    assert stored.submitted_at is not None
    assert {a.criterion.key: a.value for a in stored.answers} == MIXED
    assert stored.assignment is not None
    assert stored.assignment.status == AssignmentStatus.DONE
    event = events(db, stored)[-1]
    assert event.action == "submitted"
    assert event.details["status"] == {"from": "draft", "to": "submitted"}
    assert event.details["score"] == {"from": None, "to": pytest.approx(MIXED_SCORE)}
    assert event.details["answers"]["empathy"] == {"value": "3", "comment": ""}


def test_failing_a_critical_criterion_auto_fails_the_review(world: World) -> None:
    review = submitted(world, {**PERFECT, "identity": "no"})
    assert review.auto_failed is True
    assert review.score == 0.0


def test_a_submitted_review_cannot_be_edited(world: World, db: Session) -> None:
    review = submitted(world)
    with pytest.raises(ReviewError, match="only a draft"):
        services.save_draft(db, review, world.card.answers({"greeting": "no"}), "", by=world.qa)
    with pytest.raises(ReviewError, match="only a draft"):
        services.submit_review(db, review, by=world.qa)


# Acknowledging and disputing -------------------------------------------------------------------


def test_only_the_reviewed_agent_acknowledges(world: World, db: Session, make: Factory) -> None:
    review = submitted(world)
    for outsider in (world.qa, world.manager, make.user(Role.AGENT)):
        with pytest.raises(ReviewError, match="Only the agent"):
            services.acknowledge(db, review, by=outsider)
    services.acknowledge(db, review, by=world.agent_user)
    assert review.status == ReviewStatus.ACKNOWLEDGED
    assert review.acknowledged_at is not None
    event = events(db, review)[-1]
    assert (event.action, event.actor_id) == ("acknowledged", world.agent_user.id)
    with pytest.raises(ReviewError, match="acknowledged"):
        services.dispute(db, review, "I changed my mind", by=world.agent_user)


def test_drafts_cannot_be_acknowledged_or_disputed(world: World, db: Session) -> None:
    review = services.start_review(db, world.conversation, world.qa, version=world.card.version)
    with pytest.raises(ReviewError, match="draft"):
        services.acknowledge(db, review, by=world.agent_user)
    with pytest.raises(ReviewError, match="not been submitted"):
        services.dispute(db, review, "Not fair", by=world.agent_user)


def test_dispute_needs_a_reason_and_the_agent(world: World, db: Session) -> None:
    review = submitted(world)
    with pytest.raises(ReviewError, match="reason"):
        services.dispute(db, review, "   ", by=world.agent_user)
    with pytest.raises(ReviewError, match="Only the agent"):
        services.dispute(db, review, "Not fair", by=world.qa)
    raised = services.dispute(db, review, "  I did greet the customer.  ", by=world.agent_user)
    assert raised.reason == "I did greet the customer."
    assert review.status == ReviewStatus.DISPUTED
    event = events(db, review)[-1]
    assert event.action == "disputed"
    assert event.details == {
        "status": {"from": "submitted", "to": "disputed"},
        "dispute_id": raised.id,
        "reason": "I did greet the customer.",
    }
    with pytest.raises(ReviewError, match="already disputed"):
        services.dispute(db, review, "Again", by=world.agent_user)


# Resolving -------------------------------------------------------------------------------------


@pytest.fixture
def disputed(world: World) -> Review:
    review = submitted(world, MIXED)
    services.dispute(world.session, review, "I greeted them by name.", by=world.agent_user)
    world.session.commit()
    return review


def test_upholding_keeps_the_review_and_is_final(world: World, disputed: Review) -> None:
    db = world.session
    decided = services.resolve_dispute(
        db, disputed, DisputeOutcome.UPHELD, "The name came after the problem.", by=world.manager
    )
    assert decided.outcome == DisputeOutcome.UPHELD
    assert decided.resolved_by_id == world.manager.id
    assert disputed.status == ReviewStatus.RESOLVED
    assert disputed.score == pytest.approx(MIXED_SCORE)
    event = events(db, disputed)[-1]
    assert (event.action, event.actor_id) == ("resolved_upheld", world.manager.id)
    assert event.details["note"] == "The name came after the problem."
    with pytest.raises(ReviewError, match="upheld"):
        services.dispute(db, disputed, "Still unfair", by=world.agent_user)
    services.acknowledge(db, disputed, by=world.agent_user)
    assert disputed.status == ReviewStatus.ACKNOWLEDGED


def test_rescoring_keeps_the_old_answers_and_score_in_the_audit_trail(
    world: World, disputed: Review
) -> None:
    db = world.session
    new_answers = world.card.answers({"greeting": "yes"}, {"greeting": "Greeted by name"})
    services.resolve_dispute(
        db, disputed, DisputeOutcome.RESCORED, "Agreed.", new_answers, by=world.manager
    )
    db.commit()
    # greeting now 1: (1 + 11/3) / 6 = 77.78
    assert disputed.score == pytest.approx(77.78)
    assert disputed.status == ReviewStatus.RESOLVED
    event = events(db, disputed)[-1]
    assert event.action == "rescored"
    assert event.details["old_score"] == pytest.approx(MIXED_SCORE)
    assert event.details["old_answers"] == {
        key: {"value": value, "comment": ""} for key, value in MIXED.items()
    }
    assert event.details["answers"] == {
        "greeting": {
            "from": {"value": "no", "comment": ""},
            "to": {"value": "yes", "comment": "Greeted by name"},
        }
    }
    assert event.details["score"] == {
        "from": pytest.approx(MIXED_SCORE),
        "to": pytest.approx(77.78),
    }
    assert event.details["section_scores"]["from"]["Opening"] == 0.0
    # A re-score is a new decision: the agent may dispute it once more.
    services.dispute(db, disputed, "Empathy was better than fair.", by=world.agent_user)
    assert disputed.status == ReviewStatus.DISPUTED


def test_only_managers_and_admins_resolve(world: World, disputed: Review, make: Factory) -> None:
    for role in (Role.QA_SPECIALIST, Role.PARTNER_QA, Role.AGENT):
        with pytest.raises(ReviewError, match="manager or an administrator"):
            services.resolve_dispute(
                world.session, disputed, DisputeOutcome.UPHELD, "No", by=make.user(role)
            )
    admin = make.user(Role.ADMIN)
    services.resolve_dispute(world.session, disputed, DisputeOutcome.UPHELD, "Fine", by=admin)
    assert disputed.status == ReviewStatus.RESOLVED


def test_the_reviewer_does_not_decide_their_own_reviews_dispute(
    world: World, make: Factory, db: Session
) -> None:
    review = submitted_review(db, world.card, world.conversation, world.manager)
    services.dispute(db, review, "Unfair", by=world.agent_user)
    with pytest.raises(ReviewError, match="You scored this review"):
        services.resolve_dispute(db, review, DisputeOutcome.UPHELD, "Fine", by=world.manager)


def test_resolution_needs_a_note_an_open_dispute_and_a_real_change(
    world: World, disputed: Review
) -> None:
    db = world.session
    with pytest.raises(ReviewError, match="note"):
        services.resolve_dispute(db, disputed, DisputeOutcome.UPHELD, " ", by=world.manager)
    same = world.card.answers({"greeting": "no"})
    with pytest.raises(ReviewError, match="No answer changed"):
        services.resolve_dispute(db, disputed, DisputeOutcome.RESCORED, "x", same, by=world.manager)
    services.resolve_dispute(db, disputed, DisputeOutcome.UPHELD, "Stands.", by=world.manager)
    with pytest.raises(ReviewError, match="no open dispute"):
        services.resolve_dispute(db, disputed, DisputeOutcome.UPHELD, "Again", by=world.manager)


def test_every_change_is_in_the_audit_trail_with_its_actor(world: World, disputed: Review) -> None:
    trail = [(e.action, e.actor_id) for e in events(world.session, disputed)]
    assert trail == [
        ("created", world.qa.id),
        ("saved", world.qa.id),
        ("submitted", world.qa.id),
        ("disputed", world.agent_user.id),
    ]
    assert all(e.at is not None for e in events(world.session, disputed))
