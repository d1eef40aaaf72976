"""Job kinds of calibration: create the month's session (the scheduled `schedule-calibration`).

It makes the choices the command makes with its defaults (the default scorecard, the first
facilitator, every QA specialist and partner QA as raters, conversations of the month before),
through the command's own helpers, whose usage errors become the job's error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click
from sqlalchemy.orm import Session

from qa_app.calibration import cli as calibration_cli
from qa_app.calibration import services
from qa_app.calibration.errors import CalibrationError
from qa_app.jobs.errors import JobInputError
from qa_app.jobs.registry import JobContext, register_kind
from qa_app.sampling.periods import Period, PeriodError, parse_period

SCHEDULE_CALIBRATION_KIND = "schedule_calibration"


def _month(params: dict[str, Any]) -> Period:
    """``month`` if given, else the month of ``scheduled_for`` (a scheduled job), else now's."""
    if params.get("month"):
        return parse_period(str(params["month"]))
    scheduled = params.get("scheduled_for")
    when = datetime.fromisoformat(scheduled) if scheduled else datetime.now(UTC)
    return parse_period(f"{when:%Y-%m}")


def schedule_calibration(session: Session, job: JobContext) -> dict[str, Any]:
    """Create the month's session; a month already scheduled adds nothing."""
    month = _month(job.params)
    source = calibration_cli._previous_month(month)
    try:
        scorecard, version = calibration_cli._scorecard(session, None)
        series_key = f"{scorecard.id}:{month.label}"
        existing = calibration_cli._existing(session, series_key)
        if existing is not None:
            return {"month": month.label, "session_id": existing.id, "created": False}
        due_at = calibration_cli._due(month, calibration_cli.DEFAULT_DUE_DAY)
        facilitator = calibration_cli._facilitator(session, None)
        raters = calibration_cli._raters(session, None)
    except click.ClickException as error:
        raise JobInputError(error.format_message()) from error
    if len(raters) < services.MIN_RATERS:
        raise JobInputError(
            f"A session needs at least {services.MIN_RATERS} raters; found {len(raters)}."
        )
    conversation_ids = services.sample_conversations(
        session,
        raters=raters,
        count=calibration_cli.DEFAULT_CONVERSATIONS,
        seed=month.start.year * 100 + month.start.month,
        period=source.label,
    )
    if not conversation_ids:
        raise JobInputError(f"No conversation of {source.label} can be sampled for calibration.")
    calibration = services.create_session(
        session,
        services.SessionInput(
            title=f"{month.start:%B %Y} calibration",
            scorecard_version_id=version.id,
            conversation_ids=conversation_ids,
            rater_ids=[rater.id for rater in raters],
            due_at=due_at,
            series_key=series_key,
        ),
        by=facilitator,
    )
    return {
        "month": month.label,
        "session_id": calibration.id,
        "created": True,
        "title": calibration.title,
        "conversations": len(conversation_ids),
        "raters": len(raters),
        "due_at": due_at.isoformat(),
    }


register_kind(
    SCHEDULE_CALIBRATION_KIND,
    schedule_calibration,
    label="Schedule calibration",
    input_errors=(CalibrationError, PeriodError),
)
