"""`flask run-sampling`: every active plan or one, a period, idempotent, errors exit non-zero."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.org.roles import Role
from qa_app.sampling.models import ReviewAssignment, SamplingRun, Strategy
from qa_app.sampling.periods import current_week
from tests.conftest import Factory
from tests.sampling.conftest import BulkMaker, PlanMaker


def count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_run_sampling_runs_one_plan_for_a_period_and_prints_its_strata(
    runner: Any, db: Session, make: Factory, make_plan: PlanMaker, bulk: BulkMaker
) -> None:
    bulk(7, make.agent(name="Maya Chen"))
    bulk(2, make.agent(name="Bo Berg"))
    plan = make_plan(
        name="Weekly chat QA",
        strategy=Strategy.QUOTA,
        params={"per_agent": 5},
        reviewers=[make.user(Role.QA_SPECIALIST)],
    )
    result = runner.invoke(args=["run-sampling", "--plan", str(plan.id), "--period", "2026-W40"])
    assert result.exit_code == 0, result.output
    assert f"Plan {plan.id} 'Weekly chat QA', 2026-W40: 9 candidates, 7 sampled, 0 unassigned." in (
        result.output
    )
    assert "  Agent Maya Chen: 5 of 7" in result.output
    assert "  Agent Bo Berg: 2 of 2" in result.output
    assert count(db, ReviewAssignment) == 7

    again = runner.invoke(args=["run-sampling", "--plan", str(plan.id), "--period", "2026-w40"])
    assert again.exit_code == 0, again.output
    assert "already run" in again.output
    assert "nothing added" in again.output
    assert count(db, ReviewAssignment) == 7


def test_run_sampling_runs_every_active_plan_for_the_current_week_by_default(
    runner: Any, db: Session, make: Factory, make_plan: PlanMaker, bulk: BulkMaker
) -> None:
    week = current_week()
    bulk(6, make.agent(), start=week.start + timedelta(minutes=1), step=timedelta(minutes=1))
    active = make_plan(name="Active", params={"size": 2})
    make_plan(name="Paused", params={"size": 2}, is_active=False)
    result = runner.invoke(args=["run-sampling"])
    assert result.exit_code == 0, result.output
    assert f"Plan {active.id} 'Active', {week.label}: 6 candidates, 2 sampled, 2 unassigned." in (
        result.output
    )
    assert "Paused" not in result.output
    assert "have no eligible reviewer" in result.output
    runs = db.scalars(select(SamplingRun)).all()
    assert [(run.plan_id, run.period) for run in runs] == [(active.id, week.label)]


def test_run_sampling_says_when_there_is_nothing_to_run(runner: Any) -> None:
    result = runner.invoke(args=["run-sampling"])
    assert result.exit_code == 0
    assert "No active sampling plans." in result.output


def test_run_sampling_refuses_bad_input_with_the_reason(
    runner: Any, db: Session, make_plan: PlanMaker
) -> None:
    paused = make_plan(name="Paused", is_active=False)
    bad_period = runner.invoke(args=["run-sampling", "--period", "2026-W54"])
    assert bad_period.exit_code == 2
    assert "2026 has no ISO week 54" in bad_period.output
    unknown = runner.invoke(args=["run-sampling", "--plan", "999"])
    assert unknown.exit_code == 2
    assert "there is no plan 999" in unknown.output
    inactive = runner.invoke(args=["run-sampling", "--plan", str(paused.id), "--period", "2026-11"])
    assert inactive.exit_code == 1
    assert "is deactivated" in inactive.output
    assert "1 of 1 plans could not run" in inactive.output
    assert count(db, SamplingRun) == 0
