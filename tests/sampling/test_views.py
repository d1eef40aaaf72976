"""Sampling pages: plans, preview, run now, and assignments for each role and partner scope."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.org.roles import Role
from qa_app.reviews import services as review_services
from qa_app.reviews.models import Review
from qa_app.sampling import services
from qa_app.sampling.models import (
    AssignmentStatus,
    ReviewAssignment,
    SamplingPlan,
    SamplingRun,
    Strategy,
)
from qa_app.scorecards.models import Scorecard
from tests.conftest import Factory
from tests.reviews.factories import published_scorecard
from tests.sampling.conftest import WEEK, BulkMaker, PlanMaker

LoginAs = Any


def plan_form(scorecard: Scorecard, **fields: Any) -> dict[str, Any]:
    """A complete plan form as a browser posts it; booleans are present only when checked."""
    data: dict[str, Any] = {
        "name": "Weekly chat QA",
        "scorecard_id": str(scorecard.id),
        "strategy": "uniform",
        "size": "20",
        "per_agent": "",
        "stratify_by": "team",
        "low_csat_max": "2",
        "weight_low_csat": "4",
        "long_handle_minutes": "30",
        "weight_long_handle": "2",
        "escalation_tags": "escalated, escalation",
        "weight_escalation": "3",
        "reopen_tags": "reopened",
        "weight_reopen": "2",
        "window_days": "",
        "csat_min": "",
        "csat_max": "",
        "tags": "",
        "min_handle_minutes": "",
        "seed": "1234",
        "partner_reviewers_own_only": "y",
        "due_days": "7",
        "is_active": "y",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def text(response: Any) -> str:
    return response.get_data(as_text=True)


# Plans ------------------------------------------------------------------------------------------


def test_a_manager_creates_a_plan_with_every_setting(
    client: FlaskClient, db: Session, make: Factory, login_as: LoginAs, scorecard: Scorecard
) -> None:
    partner = make.partner("Northwind")
    team = make.team("NW Chat", partner)
    agent = make.agent(team, name="Noor")
    reviewer = make.user(Role.PARTNER_QA, partner=partner)
    login_as(make.user(Role.MANAGER))
    response = client.post(
        "/sampling/plans/new",
        data=plan_form(
            scorecard,
            strategy="risk_weighted",
            size="30",
            weight_low_csat="6.5",
            long_handle_minutes="45",
            partner_ids=["0", str(partner.id)],
            team_ids=[str(team.id)],
            agent_ids=[str(agent.id)],
            channels=["chat", "email"],
            window_days="14",
            csat_min="1",
            csat_max="3",
            include_unrated="y",
            tags="Refund, billing",
            min_handle_minutes="5",
            reviewer_ids=[str(reviewer.id)],
            partner_reviewers_own_only=None,
            due_days="5",
        ),
    )
    assert response.status_code == 302, text(response)
    plan = db.scalars(select(SamplingPlan)).one()
    assert response.headers["Location"].endswith(f"/sampling/plans/{plan.id}")
    assert (plan.name, plan.strategy, plan.seed, plan.due_days) == (
        "Weekly chat QA",
        Strategy.RISK,
        1234,
        5,
    )
    assert plan.filters == {
        "partner_ids": [0, partner.id],
        "team_ids": [team.id],
        "agent_ids": [agent.id],
        "channels": ["chat", "email"],
        "window_days": 14,
        "csat_min": 1,
        "csat_max": 3,
        "include_unrated": True,
        "tags": ["refund", "billing"],
        "min_handle_seconds": 300,
    }
    assert plan.params["size"] == 30
    assert plan.params["weight_low_csat"] == 6.5
    assert plan.params["long_handle_seconds"] == 2700
    assert [user.id for user in plan.reviewers] == [reviewer.id]
    assert plan.partner_reviewers_own_only is False
    page = text(client.get(f"/sampling/plans/{plan.id}"))
    assert "Risk-weighted: 30/period" in page
    assert "Low CSAT (at most 2): +6.5" in page
    assert "Tagged with any of:</span> refund, billing" in page
    assert "In-house" in page


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"size": ""}, "This strategy needs a sample size."),
        ({"strategy": "quota_per_agent", "size": ""}, "A quota needs the number"),
        ({"csat_min": "4", "csat_max": "2"}, "must not be below the lower one"),
        ({"scorecard_id": ""}, "Choose a scorecard."),
        ({"seed": ""}, "This field is required."),
    ],
)
def test_the_plan_form_explains_what_is_wrong(
    client: FlaskClient,
    db: Session,
    make: Factory,
    login_as: LoginAs,
    scorecard: Scorecard,
    fields: dict[str, str],
    message: str,
) -> None:
    login_as(make.user(Role.MANAGER))
    response = client.post("/sampling/plans/new", data=plan_form(scorecard, **fields))
    assert response.status_code == 200
    assert message in text(response)
    assert db.scalar(select(func.count()).select_from(SamplingPlan)) == 0


def test_service_errors_show_on_the_form(
    client: FlaskClient,
    make: Factory,
    make_plan: PlanMaker,
    login_as: LoginAs,
    scorecard: Scorecard,
) -> None:
    make_plan(name="Weekly chat QA")
    login_as(make.user(Role.ADMIN))
    response = client.post("/sampling/plans/new", data=plan_form(scorecard))
    assert "There is already a plan named" in text(response)


def test_editing_a_plan_shows_its_settings_and_saves_changes(
    client: FlaskClient, db: Session, make: Factory, make_plan: PlanMaker, login_as: LoginAs
) -> None:
    reviewer = make.user(Role.QA_SPECIALIST)
    plan = make_plan(
        strategy=Strategy.QUOTA,
        params={"per_agent": 5},
        filters={"tags": ["refund"], "min_handle_seconds": 600},
        reviewers=[reviewer],
    )
    login_as(make.user(Role.MANAGER))
    page = text(client.get(f"/sampling/plans/{plan.id}/edit"))
    assert 'value="refund"' in page
    assert 'name="min_handle_minutes" type="number" value="10"' in page
    assert f'<option selected value="{reviewer.id}">' in page
    response = client.post(
        f"/sampling/plans/{plan.id}/edit",
        data=plan_form(
            plan.scorecard,
            name=plan.name,
            strategy="quota_per_agent",
            per_agent="3",
            reviewer_ids=[str(reviewer.id)],
            is_active=None,
        ),
    )
    assert response.status_code == 302, text(response)
    db.refresh(plan)
    assert (plan.params, plan.filters, plan.is_active) == ({"per_agent": 3}, {}, False)


def test_the_plan_list_shows_plans_with_their_last_run(
    client: FlaskClient, db: Session, make: Factory, make_plan: PlanMaker, login_as: LoginAs
) -> None:
    plan = make_plan(name="Weekly chat QA")
    services.run_plan(db, plan, WEEK)
    db.commit()
    login_as(make.user(Role.MANAGER))
    page = text(client.get("/sampling/"))
    assert "Weekly chat QA" in page
    assert "2026-W40" in page
    assert "Uniform random: 10/period" in page


def test_unknown_plans_answer_404(client: FlaskClient, make: Factory, login_as: LoginAs) -> None:
    login_as(make.user(Role.MANAGER))
    for url in ("/sampling/plans/999", "/sampling/plans/999/edit", "/sampling/plans/999/preview"):
        assert client.get(url).status_code == 404
    assert client.post("/sampling/plans/999/run").status_code == 404


# Preview and run --------------------------------------------------------------------------------


def test_preview_shows_counts_per_stratum_and_creates_nothing(
    client: FlaskClient,
    db: Session,
    make: Factory,
    make_plan: PlanMaker,
    bulk: BulkMaker,
    login_as: LoginAs,
) -> None:
    bulk(8, make.agent(name="Ann"))
    bulk(2, make.agent(name="Bo"))
    plan = make_plan(strategy=Strategy.QUOTA, params={"per_agent": 3})
    login_as(make.user(Role.MANAGER))
    response = client.get(f"/sampling/plans/{plan.id}/preview?period=2026-w40")
    page = text(response)
    assert response.status_code == 200
    assert "<strong>10</strong> candidates, <strong>5</strong> to sample" in page
    assert 'Agent Ann</td>\n      <td class="text-end">8</td>\n      <td class="text-end">3' in page
    assert "Run 2026-W40 now" in page
    assert db.scalar(select(func.count()).select_from(SamplingRun)) == 0
    assert db.scalar(select(func.count()).select_from(ReviewAssignment)) == 0
    bad = client.get(f"/sampling/plans/{plan.id}/preview?period=soon")
    assert bad.status_code == 400
    assert "is not a period" in text(bad)


def test_run_now_creates_assignments_once_per_period(
    client: FlaskClient,
    db: Session,
    make: Factory,
    make_plan: PlanMaker,
    bulk: BulkMaker,
    login_as: LoginAs,
) -> None:
    bulk(30, make.agent())
    plan = make_plan(params={"size": 10}, reviewers=[make.user(Role.QA_SPECIALIST)])
    login_as(make.user(Role.MANAGER))
    response = client.post(f"/sampling/plans/{plan.id}/run", data={"period": "2026-W40"})
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "2026-W40: 10 of 30 candidates sampled." in page
    again = client.post(f"/sampling/plans/{plan.id}/run", data={"period": "2026-W40"})
    assert "already run" in text(client.get(again.headers["Location"]))
    assert db.scalar(select(func.count()).select_from(ReviewAssignment)) == 10
    preview = text(client.get(f"/sampling/plans/{plan.id}/preview?period=2026-W40"))
    assert "running it again adds nothing" in preview


def test_run_now_reports_unassigned_and_bad_periods(
    client: FlaskClient, make: Factory, make_plan: PlanMaker, bulk: BulkMaker, login_as: LoginAs
) -> None:
    bulk(5, make.agent())
    plan = make_plan(params={"size": 3})
    login_as(make.user(Role.MANAGER))
    response = client.post(f"/sampling/plans/{plan.id}/run", data={"period": "2026-W40"})
    assert "3 have no eligible reviewer" in text(client.get(response.headers["Location"]))
    response = client.post(f"/sampling/plans/{plan.id}/run", data={"period": "2026-W99"})
    assert "has no ISO week 99" in text(client.get(response.headers["Location"]))


# Assignments ------------------------------------------------------------------------------------


@pytest.fixture
def two_partner_world(
    db: Session, make: Factory, make_plan: PlanMaker, bulk: BulkMaker
) -> dict[str, Any]:
    """Northwind and Lumen conversations, and in-house ones, sampled by one plan over three
    reviewers: Northwind's partner QA (own partner only), and two QA specialists."""
    northwind, lumen = make.partner("Northwind"), make.partner("Lumen")
    agents = {
        "northwind": make.agent(make.team("NW", northwind), name="Nadia"),
        "lumen": make.agent(make.team("LU", lumen), name="Lars"),
        "home": make.agent(make.team("Home"), name="Hana"),
    }
    ids = {key: set(bulk(4, agent)) for key, agent in agents.items()}
    users = {
        "northwind_qa": make.user(Role.PARTNER_QA, partner=northwind),
        "lumen_qa": make.user(Role.PARTNER_QA, partner=lumen),
        "northwind_viewer": make.user(Role.PARTNER_VIEWER, partner=northwind),
        "qa_one": make.user(Role.QA_SPECIALIST),
        "qa_two": make.user(Role.QA_SPECIALIST),
        "manager": make.user(Role.MANAGER),
    }
    reviewers = [users[key] for key in ("northwind_qa", "qa_one", "qa_two")]
    plan = make_plan(name="All chats", params={"size": 12}, reviewers=reviewers)
    services.run_plan(db, plan, WEEK)
    db.commit()
    return {"ids": ids, "users": users, "plan": plan}


def listed(client: FlaskClient, query: str = "") -> set[int]:
    response = client.get(f"/sampling/assignments{query}")
    assert response.status_code == 200, text(response)
    page = text(response)
    ids = set()
    for item in page.split('data-assignment-id="')[1:]:
        ids.add(int(item.split('"', 1)[0]))
    return ids


def assignment_ids(db: Session, **where: Any) -> set[int]:
    return set(db.scalars(select(ReviewAssignment.id).filter_by(**where)))


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("manager", "all"),
        ("qa_one", "own"),
        ("northwind_qa", "own"),
        ("lumen_qa", "own"),
        ("northwind_viewer", "northwind"),
    ],
)
def test_each_role_sees_the_assignments_of_its_scope(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    two_partner_world: dict[str, Any],
    who: str,
    sees: str,
) -> None:
    user: User = two_partner_world["users"][who]
    login_as(user)
    if sees == "all":
        expected = assignment_ids(db)
    elif sees == "own":
        expected = assignment_ids(db, reviewer_id=user.id)
    else:
        northwind = two_partner_world["ids"]["northwind"]
        expected = {
            item.id
            for item in db.scalars(select(ReviewAssignment))
            if item.conversation_id in northwind
        }
    assert listed(client) == expected
    if who == "northwind_qa":
        assert expected
        assert all(
            db.get(ReviewAssignment, item).conversation_id in two_partner_world["ids"]["northwind"]
            for item in expected
        )
    if who == "lumen_qa":
        assert expected == set()  # not a reviewer of the plan, and Northwind's are out of scope


def test_partner_users_never_see_other_partners_assignments(
    client: FlaskClient, db: Session, login_as: LoginAs, two_partner_world: dict[str, Any]
) -> None:
    lumen_qa: User = two_partner_world["users"]["lumen_qa"]
    northwind_item = db.scalars(
        select(ReviewAssignment).where(
            ReviewAssignment.conversation_id.in_(two_partner_world["ids"]["northwind"])
        )
    ).first()
    assert northwind_item is not None
    northwind_item.reviewer_id = lumen_qa.id  # even when (wrongly) assigned to them
    db.commit()
    login_as(lumen_qa)
    assert listed(client, "?status=all") == set()


def test_managers_filter_assignments_by_plan_reviewer_and_status(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    make_plan: PlanMaker,
    two_partner_world: dict[str, Any],
) -> None:
    users = two_partner_world["users"]
    plan = two_partner_world["plan"]
    login_as(users["manager"])
    qa_one_items = assignment_ids(db, reviewer_id=users["qa_one"].id)
    assert listed(client, f"?plan={plan.id}&reviewer={users['qa_one'].id}") == qa_one_items
    skipped = next(iter(qa_one_items))
    services.skip(db, db.get(ReviewAssignment, skipped), "Duplicate.")
    db.commit()
    assert skipped not in listed(client)  # the default: open and in progress
    assert listed(client, "?status=skipped") == {skipped}
    assert listed(client, "?reviewer=none") == set()
    assert client.get("/sampling/assignments?plan=abc").status_code == 400


def test_a_manager_reassigns_and_skips_an_assignment(
    client: FlaskClient, db: Session, login_as: LoginAs, two_partner_world: dict[str, Any]
) -> None:
    users = two_partner_world["users"]
    login_as(users["manager"])
    item_id = min(assignment_ids(db, reviewer_id=users["qa_one"].id))
    page = text(client.get(f"/sampling/assignments/{item_id}"))
    assert "Sampled by plan &#39;All chats&#39; (uniform random: 12/week)" in page
    response = client.post(
        f"/sampling/assignments/{item_id}/reassign", data={"reviewer_id": users["qa_two"].id}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(ReviewAssignment, item_id).reviewer_id == users["qa_two"].id
    response = client.post(f"/sampling/assignments/{item_id}/skip", data={"reason": " "})
    assert "Say why the conversation is skipped." in text(client.get(response.headers["Location"]))
    client.post(f"/sampling/assignments/{item_id}/skip", data={"reason": "A test chat."})
    db.expire_all()
    item = db.get(ReviewAssignment, item_id)
    assert (item.status, item.skip_reason) == (AssignmentStatus.SKIPPED, "A test chat.")
    page = text(client.get(f"/sampling/assignments/{item_id}"))
    assert "it can no longer be changed here" in page
    history = page.split('data-testid="assignment-history"')[1].split("</ol>")[0]
    assert "reassigned" in history
    assert f"from {users['qa_one'].name} to {users['qa_two'].name}" in history
    assert f"by {users['manager'].name}" in history
    assert "A test chat." in history


def test_reassigning_to_an_ineligible_reviewer_is_refused(
    client: FlaskClient, db: Session, login_as: LoginAs, two_partner_world: dict[str, Any]
) -> None:
    users = two_partner_world["users"]
    home = two_partner_world["ids"]["home"]
    item = db.scalars(
        select(ReviewAssignment).where(ReviewAssignment.conversation_id.in_(home))
    ).first()
    assert item is not None
    login_as(users["manager"])
    response = client.post(
        f"/sampling/assignments/{item.id}/reassign", data={"reviewer_id": users["northwind_qa"].id}
    )
    assert "Not a valid choice" in text(client.get(response.headers["Location"]))
    db.expire_all()
    assert db.get(ReviewAssignment, item.id).reviewer_id != users["northwind_qa"].id


def test_the_sampling_menu_is_for_admins_and_managers(
    client: FlaskClient, make: Factory, login_as: LoginAs
) -> None:
    login_as(make.user(Role.MANAGER))
    assert 'href="/sampling/"' in text(client.get("/"))
    client.post("/logout")
    login_as(make.user(Role.QA_SPECIALIST))
    assert 'href="/sampling/"' not in text(client.get("/"))


def test_skipping_a_started_assignment_says_the_draft_stays_with_its_reviewer(
    client: FlaskClient,
    db: Session,
    login_as: LoginAs,
    two_partner_world: dict[str, Any],
    scorecard: Scorecard,
) -> None:
    users = two_partner_world["users"]
    qa_one = users["qa_one"]
    published_scorecard(db, scorecard=scorecard)
    item = db.get(ReviewAssignment, min(assignment_ids(db, reviewer_id=qa_one.id)))
    draft = review_services.start_review(db, item.conversation, qa_one, assignment=item)
    db.commit()
    login_as(users["manager"])
    page = text(client.get(f"/sampling/assignments/{item.id}"))
    assert "skipping leaves that draft with them" in page
    response = client.post(f"/sampling/assignments/{item.id}/skip", data={"reason": "Spam."})
    page = text(client.get(response.headers["Location"]))
    assert f"Assignment skipped. {qa_one.name} keeps the draft review as their own." in page
    db.expire_all()
    assert db.get(ReviewAssignment, item.id).status == AssignmentStatus.SKIPPED
    assert db.get(Review, draft.id).assignment_id is None
