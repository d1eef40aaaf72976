"""The demo's calibration: revealed August to October sessions agreeing better and better, the
October one with its patterns, and an open November one."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.calibration.models import (
    CalibrationGroupResult,
    CalibrationNote,
    CalibrationRating,
    CalibrationSession,
    RatingStatus,
    SessionStatus,
)
from qa_app.calibration.results import GROUP_ALL, GROUP_IN_HOUSE, compute_results
from qa_app.calibration.trends import trends
from qa_app.conversations.models import Conversation
from qa_app.demo.calibration import seed_demo_calibration
from qa_app.org.models import Team


def _counts(db: Session) -> tuple[int, ...]:
    models = (CalibrationSession, CalibrationRating, CalibrationNote, CalibrationGroupResult)
    return tuple(db.scalar(select(func.count()).select_from(model)) or 0 for model in models)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


RATERS = {"qa", "qa2", "northwind.qa", "northwind.qa2", "lumen.qa", "lumen.qa2", "manager"}


def test_seed_demo_builds_revealed_monthly_and_an_open_calibration_session_once(
    runner: Any, db: Session
) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    for month in ("August", "September", "October"):
        assert f"Demo calibration: {month} 2026 calibration (revealed)." in result.output
    assert "Demo calibration: November 2026 calibration (open)." in result.output
    monthly = select(CalibrationSession).where(CalibrationSession.series_key.is_not(None))
    august, september, october, november = db.scalars(monthly.order_by(CalibrationSession.id))
    now = datetime.now(UTC)

    revealed = (august, september, october)
    for calibration in revealed:
        assert calibration.status == SessionStatus.REVEALED
        assert _aware(calibration.due_at) < _aware(calibration.revealed_at) < now
        assert len(calibration.items) == 5
        assert {rater.user.email.split("@")[0] for rater in calibration.raters} == RATERS
    assert [f"{c.revealed_at:%Y-%m}" for c in revealed] == ["2026-08", "2026-09", "2026-10"]
    conversations = [item.conversation_id for c in revealed for item in c.items]
    assert len(set(conversations)) == 15  # no conversation in two sessions
    partners = db.scalars(
        select(Team.partner_id)
        .join(Conversation, Conversation.team_id == Team.id)
        .where(Conversation.id.in_([item.conversation_id for item in october.items]))
    ).all()
    assert partners == [None] * 5  # raters of two partners: in-house conversations only
    ratings = db.scalars(
        select(CalibrationRating).where(CalibrationRating.session_id == october.id)
    )
    by_kind: dict[bool, list[CalibrationRating]] = {True: [], False: []}
    for rating in ratings:
        by_kind[rating.is_benchmark].append(rating)
    assert len(by_kind[False]) == 35
    assert all(rating.status == RatingStatus.SUBMITTED for rating in by_kind[False])
    assert len(by_kind[True]) == 5
    stored = db.scalars(
        select(CalibrationGroupResult.group_key).where(
            CalibrationGroupResult.session_id == october.id
        )
    ).all()
    assert len(stored) == 4  # all, in-house, and each partner
    decisions = db.scalars(
        select(CalibrationNote).where(
            CalibrationNote.session_id == october.id, CalibrationNote.is_decision.is_(True)
        )
    ).all()
    assert {note.criterion.key for note in decisions} == {
        "identity_verified",
        "acknowledges_situation",
    }

    # The deliberate patterns show in the figures.
    results = compute_results(db, october, n_boot=0)
    bias = {rater.email.split("@")[0]: rater.bias_label for rater in results.raters}
    assert bias == {
        "qa": "on target",
        "qa2": "on target",
        "manager": "on target",
        "northwind.qa": "lenient",
        "northwind.qa2": "on target",
        "lumen.qa": "strict",
        "lumen.qa2": "strict",
    }
    assert {row.key for row in results.divergence[:3]} >= {"identity_verified"}
    assert results.overall.alpha is not None
    assert all(group.agreement.alpha is not None for group in results.groups)  # two raters each

    # Month by month the groups agree better and stray less from the benchmark.
    trend = trends(db, today=date(2026, 11, 30))
    assert trend.months == ("2026-08", "2026-09", "2026-10")
    assert [series.group_key for series in trend.series][:2] == [GROUP_ALL, GROUP_IN_HOUSE]
    assert len(trend.series) == 4
    for series in trend.series:
        points = [point for point in series.points if point is not None]
        assert len(points) == 3, series.label
        alphas = [point.alpha for point in points]
        mads = [point.mean_absolute_deviation for point in points]
        assert None not in alphas
        assert alphas == sorted(alphas), series.label
        assert mads == sorted(mads, reverse=True), series.label

    assert november.status == SessionStatus.OPEN
    assert _aware(november.due_at) > now
    submitted = {rater.user.email.split("@")[0]: 0 for rater in november.raters}
    for rating in db.scalars(
        select(CalibrationRating).where(CalibrationRating.session_id == november.id)
    ):
        if rating.status == RatingStatus.SUBMITTED:
            submitted[rating.rater.email.split("@")[0]] += 1
    assert submitted == {
        "qa": 5,
        "qa2": 4,
        "northwind.qa": 3,
        "northwind.qa2": 5,
        "manager": 2,
        "lumen.qa": 0,
        "lumen.qa2": 1,
    }

    before = _counts(db)
    assert seed_demo_calibration(db) == []
    db.commit()
    assert _counts(db) == before
    # The demo's November session is the scheduler's: scheduling the month again adds nothing.
    scheduled = runner.invoke(args=["schedule-calibration", "--month", "2026-11"])
    assert scheduled.exit_code == 0, scheduled.output
    assert "already exists for 2026-11" in scheduled.output
    assert _counts(db) == before
