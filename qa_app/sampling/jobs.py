"""Job kinds of sampling: run every active plan for a week (the scheduled `flask run-sampling`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.jobs.errors import JobInputError
from qa_app.jobs.registry import JobContext, register_kind
from qa_app.sampling.models import SamplingPlan
from qa_app.sampling.periods import Period, PeriodError, current_week, parse_period
from qa_app.sampling.services import SamplingError, find_run, run_plan, run_unassigned

RUN_SAMPLING_KIND = "run_sampling"


def _period(params: dict[str, Any]) -> Period:
    """``period`` if given, else the week of ``scheduled_for`` (a scheduled job), else now's."""
    if params.get("period"):
        return parse_period(str(params["period"]))
    scheduled = params.get("scheduled_for")
    when = datetime.fromisoformat(scheduled) if scheduled else datetime.now(UTC)
    return current_week(when)


def run_sampling(session: Session, job: JobContext) -> dict[str, Any]:
    """Run each active plan (or ``plan_id``) for the period; a period already run adds nothing."""
    period = _period(job.params)
    stmt = select(SamplingPlan).where(SamplingPlan.is_active).order_by(SamplingPlan.id)
    if job.params.get("plan_id") is not None:
        stmt = stmt.where(SamplingPlan.id == int(job.params["plan_id"]))
    plans = list(session.scalars(stmt))
    outcomes: list[dict[str, Any]] = []
    for number, plan in enumerate(plans, start=1):
        outcome: dict[str, Any] = {"plan_id": plan.id, "plan": plan.name}
        already = find_run(session, plan, period) is not None
        try:
            run = run_plan(session, plan, period)
        except SamplingError as error:
            session.rollback()
            outcomes.append(outcome | {"error": str(error)})
        else:
            session.commit()
            outcome |= {"already_run": already, "candidates": run.candidates}
            outcomes.append(outcome | {"sampled": run.sampled, "unassigned": run_unassigned(run)})
        job.progress(number, len(plans), f"{number} of {len(plans)} plans run for {period.label}")
    result = {"period": period.label, "plans": outcomes}
    failed = [outcome for outcome in outcomes if "error" in outcome]
    if failed:
        raise JobInputError(
            f"{len(failed)} of {len(plans)} plans could not run: "
            + "; ".join(outcome["error"] for outcome in failed),
            result=result,
        )
    return result


register_kind(
    RUN_SAMPLING_KIND,
    run_sampling,
    label="Run sampling plans",
    input_errors=(SamplingError, PeriodError),
)
