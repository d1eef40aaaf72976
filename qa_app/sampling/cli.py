"""`flask run-sampling`: run sampling plans from a terminal or a cron job."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from qa_app.db import get_session
from qa_app.sampling.models import SamplingPlan
from qa_app.sampling.periods import PeriodError, current_week, parse_period
from qa_app.sampling.services import SamplingError, find_run, run_plan, run_unassigned


@click.command("run-sampling")
@with_appcontext
@click.option(
    "--plan", "plan_id", type=int, help="Run only this plan (default: every active plan)."
)
@click.option(
    "--period",
    "period_text",
    metavar="PERIOD",
    help="ISO week YYYY-Www (default: the current week), or a month YYYY-MM, or a day YYYY-MM-DD.",
)
def run_sampling(plan_id: int | None, period_text: str | None) -> None:
    """Sample conversations into review assignments; a period already run adds nothing."""
    try:
        period = parse_period(period_text) if period_text is not None else current_week()
    except PeriodError as error:
        raise click.BadParameter(str(error), param_hint="--period") from error
    session = get_session()
    if plan_id is not None:
        plan = session.get(SamplingPlan, plan_id)
        if plan is None:
            raise click.BadParameter(f"there is no plan {plan_id}.", param_hint="--plan")
        plans = [plan]
    else:
        plans = list(
            session.scalars(
                select(SamplingPlan).where(SamplingPlan.is_active).order_by(SamplingPlan.id)
            )
        )
        if not plans:
            click.echo("No active sampling plans.")
            return
    failures = 0
    for plan in plans:
        heading = f"Plan {plan.id} {plan.name!r}, {period.label}"
        already = find_run(session, plan, period) is not None
        try:
            run = run_plan(session, plan, period)
        except SamplingError as error:
            session.rollback()
            failures += 1
            click.echo(f"{heading}: {error}", err=True)
            continue
        session.commit()
        if already:
            click.echo(
                f"{heading}: already run on {run.created_at:%Y-%m-%d %H:%M} UTC; nothing added "
                f"({run.sampled} sampled then)."
            )
            continue
        unassigned = run_unassigned(run)
        click.echo(
            f"{heading}: {run.candidates:,} candidates, {run.sampled:,} sampled, "
            f"{unassigned:,} unassigned."
        )
        for label, counts in run.strata.items():
            click.echo(
                f"  {label}: {counts['sampled']:,} of {counts['candidates']:,}"
                + (f", {counts['unassigned']:,} unassigned" if counts.get("unassigned") else "")
            )
        if unassigned:
            click.echo(
                f"  {unassigned:,} assignments have no eligible reviewer; assign them in the app.",
                err=True,
            )
    if failures:
        raise click.ClickException(f"{failures} of {len(plans)} plans could not run.")
