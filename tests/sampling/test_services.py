"""Sampling services: saving plans, idempotent runs, balanced assignment, reassign and skip."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.org.roles import Role
from qa_app.reviews import services as review_services
from qa_app.reviews.models import ReviewEvent, ReviewStatus
from qa_app.sampling import services
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment, SamplingRun, Strategy
from qa_app.sampling.options import RISK_DEFAULTS
from qa_app.sampling.services import Candidate, SamplingError, balance
from qa_app.scorecards.models import Scorecard
from tests.conftest import Factory
from tests.reviews.factories import PERFECT, published_scorecard
from tests.sampling.conftest import WEEK, BulkMaker, PlanMaker

NOW = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)


def assignments(db: Session, **where: Any) -> list[ReviewAssignment]:
    stmt = select(ReviewAssignment).filter_by(**where).order_by(ReviewAssignment.id)
    return list(db.scalars(stmt))


def reviewer_counts(db: Session, run: SamplingRun) -> Counter[int | None]:
    return Counter(item.reviewer_id for item in assignments(db, run_id=run.id))


# Plans ------------------------------------------------------------------------------------------


def test_a_saved_plan_keeps_canonical_filters_and_the_stated_risk_weights(
    make_plan: PlanMaker, make: Factory
) -> None:
    team = make.team()
    plan = make_plan(
        strategy=Strategy.RISK,
        params={"size": 30, "per_agent": 4},
        filters={
            "tags": [" Refund", "refund"],
            "channels": ["email", "chat"],
            "team_ids": [team.id],
        },
    )
    assert plan.params == {"size": 30, **RISK_DEFAULTS}
    assert plan.filters == {
        "tags": ["refund"],
        "channels": ["chat", "email"],
        "team_ids": [team.id],
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "   "}, "needs a name"),
        ({"name": "x" * 121}, "at most 120"),
        ({"scorecard_id": 999_999}, "Choose a scorecard"),
        ({"strategy": Strategy.QUOTA, "params": {}}, "conversations per agent"),
        (
            {"strategy": Strategy.STRATIFIED, "params": {"size": 5, "stratify_by": "agent"}},
            "stratify_by",
        ),
        ({"params": {"size": 0}}, "size must be from 1"),
        ({"params": {}}, "needs a sample size"),
        (
            {"strategy": Strategy.RISK, "params": {"size": 5, "weight_low_csat": -1}},
            "weight_low_csat",
        ),
        ({"filters": {"csat_min": 4, "csat_max": 2}}, "csat_min must not be above"),
        ({"filters": {"csat_min": 6}}, "csat_min must be from 1 to 5"),
        ({"filters": {"team_ids": [999_999]}}, "Unknown teams: 999999"),
        ({"filters": {"partner_ids": [0, 999_999]}}, "Unknown partners: 999999"),
        ({"filters": {"channels": ["fax"]}}, "channels must be"),
        ({"filters": {"colour": "red"}}, "Unknown filters: colour"),
        ({"filters": {"window_days": 400}}, "window_days"),
        ({"seed": -1}, "seed"),
        ({"due_days": 0}, "due within"),
    ],
)
def test_a_plan_is_checked_before_it_is_saved(
    db: Session, scorecard: Scorecard, fields: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "name": "Weekly chat QA",
        "scorecard_id": scorecard.id,
        "strategy": Strategy.UNIFORM,
        "params": {"size": 10},
        **fields,
    }
    with pytest.raises(SamplingError, match=message):
        services.save_plan(db, None, services.PlanInput(**values))


def test_plan_names_are_unique_whatever_the_case(make_plan: PlanMaker) -> None:
    plan = make_plan(name="Weekly chat QA")
    with pytest.raises(SamplingError, match="already a plan"):
        make_plan(name="weekly  CHAT qa")
    assert plan.name == "Weekly chat QA"


@pytest.mark.parametrize("role", [Role.AGENT, Role.PARTNER_VIEWER, Role.ADMIN])
def test_reviewers_are_qa_specialists_partner_qa_or_managers(
    make_plan: PlanMaker, make: Factory, role: Role
) -> None:
    with pytest.raises(SamplingError, match="reviewers are"):
        make_plan(reviewers=[make.user(role)])


def test_a_deactivated_user_cannot_be_a_reviewer(
    db: Session, make_plan: PlanMaker, make: Factory
) -> None:
    user = make.user(Role.QA_SPECIALIST)
    user.is_active = False
    db.commit()
    with pytest.raises(SamplingError, match="deactivated"):
        make_plan(reviewers=[user])


# Runs -------------------------------------------------------------------------------------------


def test_a_run_creates_assignments_that_say_why_they_were_chosen(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker, scorecard: Scorecard
) -> None:
    maya = make.agent(name="Maya Chen")
    bulk(3, maya)
    reviewer = make.user(Role.QA_SPECIALIST)
    plan = make_plan(
        name="Weekly chat QA",
        strategy=Strategy.QUOTA,
        params={"per_agent": 2},
        reviewers=[reviewer],
        due_days=3,
    )
    run = services.run_plan(db, plan, "2026-W40", now=NOW)
    db.commit()
    assert (run.period, run.seed, run.candidates, run.sampled) == ("2026-W40", 42, 3, 2)
    assert run.strata == {
        "Agent Maya Chen": {"candidates": 3, "sampled": 2, "unassigned": 0, "weight": 1.0}
    }
    created = assignments(db, run_id=run.id)
    assert len(created) == 2
    for item in created:
        assert item.reason == (
            "Sampled by plan 'Weekly chat QA' (quota per agent: 2/week), "
            "stratum 'Agent Maya Chen', weight 1.0"
        )
        assert (item.stratum, item.weight, item.status) == ("Agent Maya Chen", 1.0, "open")
        assert (item.plan_id, item.scorecard_id, item.reviewer_id) == (
            plan.id,
            scorecard.id,
            reviewer.id,
        )
        assert item.due_at == NOW + timedelta(days=3)


def test_running_a_period_twice_adds_nothing(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker
) -> None:
    agent = make.agent()
    bulk(30, agent)
    plan = make_plan(params={"size": 10})
    first = services.run_plan(db, plan, WEEK)
    db.commit()
    bulk(30, agent, start=WEEK.start + timedelta(days=2))  # late arrivals in the same week
    again = services.run_plan(db, plan, "2026-w40")
    db.commit()
    assert again.id == first.id
    assert db.scalar(select(func.count()).select_from(SamplingRun)) == 1
    assert len(assignments(db)) == 10
    next_week = services.run_plan(db, plan, "2026-W41")
    assert next_week.id != first.id


def test_a_deactivated_plan_does_not_run(db: Session, make_plan: PlanMaker) -> None:
    plan = make_plan(is_active=False)
    with pytest.raises(SamplingError, match="deactivated"):
        services.run_plan(db, plan, WEEK)


def test_a_bad_period_is_refused(db: Session, make_plan: PlanMaker) -> None:
    with pytest.raises(SamplingError, match="not a period"):
        services.run_plan(db, make_plan(), "next week")


def test_conversations_with_open_assignments_are_not_sampled_again(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker
) -> None:
    ids = set(bulk(15, make.agent()))
    services.run_plan(db, make_plan(params={"size": 10}), WEEK)
    db.commit()
    services.run_plan(db, make_plan(params={"size": 10}), WEEK)
    db.commit()
    sampled = [item.conversation_id for item in assignments(db)]
    assert len(sampled) == 15
    assert set(sampled) == ids


# Assignment -------------------------------------------------------------------------------------


def test_assignments_are_balanced_by_open_load(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker, scorecard: Scorecard
) -> None:
    first, second, third = (make.user(Role.QA_SPECIALIST) for _ in range(3))
    earlier = bulk(8, make.agent(), start=WEEK.start - timedelta(days=14))
    loads = [(first, AssignmentStatus.OPEN)] * 3 + [(first, AssignmentStatus.IN_PROGRESS)]
    loads += [(third, AssignmentStatus.OPEN)] + [(second, AssignmentStatus.DONE)] * 3
    for conversation_id, (user, status) in zip(earlier, loads, strict=True):
        db.add(
            ReviewAssignment(
                conversation_id=conversation_id,
                scorecard_id=scorecard.id,
                reviewer_id=user.id,
                status=status,
            )
        )
    db.commit()
    bulk(40, make.agent())
    plan = make_plan(params={"size": 10}, reviewers=[first, second, third])
    run = services.run_plan(db, plan, WEEK)
    db.commit()
    # Open loads 4, 0 and 1 (done ones do not count): 10 more make everyone's load 5.
    assert reviewer_counts(db, run) == {first.id: 1, second.id: 5, third.id: 4}


def test_nobody_reviews_their_own_conversations(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker
) -> None:
    agent, other = make.agent(), make.agent()
    former_agent = make.user(Role.QA_SPECIALIST, agent=agent)
    colleague = make.user(Role.QA_SPECIALIST)
    own = set(bulk(10, agent))
    bulk(10, other)
    run = services.run_plan(
        db, make_plan(params={"size": 20}, reviewers=[former_agent, colleague]), WEEK
    )
    db.commit()
    given = assignments(db, run_id=run.id)
    assert {item.reviewer_id for item in given if item.conversation_id in own} == {colleague.id}
    assert Counter(item.reviewer_id for item in given) == {former_agent.id: 10, colleague.id: 10}


def test_without_an_eligible_reviewer_assignments_stay_unassigned_and_the_run_says_so(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker
) -> None:
    agent = make.agent(name="Ida")
    only_reviewer = make.user(Role.QA_SPECIALIST, agent=agent)
    bulk(4, agent)
    plan = make_plan(strategy=Strategy.QUOTA, params={"per_agent": 3}, reviewers=[only_reviewer])
    run = services.run_plan(db, plan, WEEK)
    assert reviewer_counts(db, run) == {None: 3}
    assert services.run_unassigned(run) == 3
    assert run.strata["Agent Ida"]["unassigned"] == 3


@pytest.mark.parametrize("own_only", [True, False])
def test_partner_qa_only_ever_get_their_own_partners_conversations(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker, own_only: bool
) -> None:
    northwind, lumen = make.partner("Northwind"), make.partner("Lumen")
    northwind_agent = make.agent(make.team("NW", northwind))
    lumen_agent = make.agent(make.team("LU", lumen))
    home_agent = make.agent(make.team("Home"))
    northwind_qa = make.user(Role.PARTNER_QA, partner=northwind)
    in_house_qa = make.user(Role.QA_SPECIALIST)
    northwind_ids = set(bulk(4, northwind_agent))
    bulk(4, lumen_agent)
    bulk(4, home_agent)
    plan = make_plan(
        params={"size": 12},
        reviewers=[northwind_qa, in_house_qa],
        partner_reviewers_own_only=own_only,
    )
    run = services.run_plan(db, plan, WEEK)
    given = assignments(db, run_id=run.id)
    partner_qa_got = {item.conversation_id for item in given if item.reviewer_id == northwind_qa.id}
    loads = Counter(item.reviewer_id for item in given)
    # The partner boundary holds either way: a partner user could not even open the others.
    assert partner_qa_got <= northwind_ids
    if own_only:  # the partner's conversations are kept for the partner's own QA
        assert partner_qa_got == northwind_ids
        assert loads == {northwind_qa.id: 4, in_house_qa.id: 8}
    else:  # shared with in-house reviewers to balance the load
        assert loads == {northwind_qa.id: 4, in_house_qa.id: 8}
        in_house_got = {i.conversation_id for i in given if i.reviewer_id == in_house_qa.id}
        assert len(in_house_got) == 8


def test_the_most_constrained_conversations_are_given_first() -> None:
    """Partner QA can take only partner conversations; handing them out in sample order would
    let the in-house reviewer take those first and leave the loads 3 and 1."""
    partner_qa = User(id=1, role=Role.PARTNER_QA, partner_id=7)
    in_house = User(id=2, role=Role.QA_SPECIALIST)
    candidates = [
        Candidate(10, agent_id=None, partner_id=7),
        Candidate(11, agent_id=None, partner_id=7),
        Candidate(12, agent_id=None, partner_id=None),
        Candidate(13, agent_id=None, partner_id=None),
    ]
    chosen = balance(candidates, [partner_qa, in_house], {}, own_only=True)
    assert chosen == {10: 1, 11: 1, 12: 2, 13: 2}


# Reassign and skip ------------------------------------------------------------------------------


@pytest.fixture
def open_assignment(
    db: Session, make_plan: PlanMaker, make: Factory, bulk: BulkMaker
) -> ReviewAssignment:
    partner = make.partner("Northwind")
    agent = make.agent(make.team("NW", partner), name="Noor")
    bulk(1, agent)
    plan = make_plan(params={"size": 1}, reviewers=[make.user(Role.QA_SPECIALIST)])
    run = services.run_plan(db, plan, WEEK)
    db.commit()
    return assignments(db, run_id=run.id)[0]


def test_an_open_assignment_can_be_reassigned(
    db: Session, make: Factory, open_assignment: ReviewAssignment
) -> None:
    manager = make.user(Role.MANAGER)
    first = open_assignment.reviewer
    assert first is not None
    assert manager in services.eligible_reviewers(db, open_assignment)
    services.reassign(db, open_assignment, manager, by=manager)
    db.commit()
    assert open_assignment.reviewer_id == manager.id
    [event] = services.history(db, open_assignment)
    assert (event.action, event.actor_id) == ("reassigned", manager.id)
    assert event.details == {
        "from": {"id": first.id, "name": first.name},
        "to": {"id": manager.id, "name": manager.name},
    }


def test_reassignment_follows_the_same_rules_as_a_run(
    db: Session, make: Factory, open_assignment: ReviewAssignment
) -> None:
    conversation = open_assignment.conversation
    own = make.user(Role.QA_SPECIALIST, agent=conversation.agent)
    other_partner_qa = make.user(Role.PARTNER_QA, partner=make.partner("Lumen"))
    same_partner_qa = make.user(Role.PARTNER_QA, partner=conversation.team.partner)
    viewer = make.user(Role.PARTNER_VIEWER, partner=conversation.team.partner)
    current = open_assignment.reviewer
    eligible = services.eligible_reviewers(db, open_assignment)
    assert same_partner_qa in eligible
    for user, message in [
        (own, "their own conversation"),
        (other_partner_qa, "their own partner"),
        (viewer, "cannot review"),
        (current, "already"),
    ]:
        assert user not in eligible
        with pytest.raises(SamplingError, match=message):
            services.reassign(db, open_assignment, user)
    open_assignment.status = AssignmentStatus.IN_PROGRESS
    with pytest.raises(SamplingError, match="Only open assignments"):
        services.reassign(db, open_assignment, same_partner_qa)


def test_skipping_needs_a_reason_and_closes_the_assignment(
    db: Session, open_assignment: ReviewAssignment, make: Factory
) -> None:
    manager = make.user(Role.MANAGER)
    with pytest.raises(SamplingError, match="Say why"):
        services.skip(db, open_assignment, "   ")
    services.skip(db, open_assignment, "  Test conversation from QA.  ", by=manager)
    db.commit()
    assert open_assignment.status == AssignmentStatus.SKIPPED
    assert open_assignment.skip_reason == "Test conversation from QA."
    assert open_assignment.skipped_by_id == manager.id
    assert open_assignment.skipped_at is not None
    [event] = services.history(db, open_assignment)
    assert event.details == {"reason": "Test conversation from QA.", "released_review_id": None}
    with pytest.raises(SamplingError, match="this one is skipped"):
        services.skip(db, open_assignment, "again")
    with pytest.raises(SamplingError, match="Only open assignments"):
        services.reassign(db, open_assignment, open_assignment.reviewer)


def test_skipping_an_assignment_in_progress_leaves_the_draft_with_its_reviewer(
    db: Session, open_assignment: ReviewAssignment, scorecard: Scorecard, make: Factory
) -> None:
    card = published_scorecard(db, scorecard=scorecard)
    reviewer = open_assignment.reviewer
    assert reviewer is not None
    draft = review_services.start_review(
        db, open_assignment.conversation, reviewer, assignment=open_assignment
    )
    review_services.save_draft(db, draft, card.answers(PERFECT), "Half done", by=reviewer)
    db.commit()
    assert open_assignment.status == AssignmentStatus.IN_PROGRESS
    manager = make.user(Role.MANAGER)
    services.skip(db, open_assignment, "Spam conversation.", by=manager)
    db.commit()
    assert open_assignment.status == AssignmentStatus.SKIPPED
    assert draft.assignment_id is None
    assert draft.status == ReviewStatus.DRAFT
    released = db.scalars(
        select(ReviewEvent).where(
            ReviewEvent.review_id == draft.id, ReviewEvent.action == "released"
        )
    ).one()
    assert released.actor_id == manager.id
    assert released.details == {"assignment_id": {"from": open_assignment.id, "to": None}}
    [skipped] = services.history(db, open_assignment)
    assert (skipped.action, skipped.actor_id) == ("skipped", manager.id)
    assert skipped.details == {"reason": "Spam conversation.", "released_review_id": draft.id}
    # The reviewer may still finish their own review; the assignment stays skipped.
    review_services.submit_review(db, draft, by=reviewer)
    db.commit()
    assert open_assignment.status == AssignmentStatus.SKIPPED
    with pytest.raises(review_services.ReviewError, match="skipped"):
        review_services.start_review(
            db, open_assignment.conversation, reviewer, assignment=open_assignment
        )
