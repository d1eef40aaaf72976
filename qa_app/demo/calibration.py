"""The demo's calibration: three revealed monthly sessions that agree better and better, an
open November one, and an extra session whose ratings are all in, waiting for its reveal.

Ratings are generated from seeded random numbers (see `calibration_raters`), so every demo
shows the same figures; the monthly sessions are in `calibration_rounds`. Every group has two
raters or more, so each group's agreement can be computed. Monthly sessions are found again by
their series key (as `schedule-calibration` makes them), the extra one by its title, so running
the seed again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.auth.services import find_user_by_email
from qa_app.calibration import services
from qa_app.calibration.models import CalibrationGroupResult, CalibrationSession
from qa_app.db import utcnow
from qa_app.demo.calibration_raters import (
    CONVERSATIONS,
    DOMAIN,
    FACILITATOR,
    RATERS,
    benchmark_answers,
    rater_answers,
)
from qa_app.demo.calibration_rounds import ROUNDS, Round, at
from qa_app.reviews.answers import ordered_criteria
from qa_app.scorecards.models import Criterion, ScorecardVersion

# The extra session, ready to reveal: found again by its title.
READY_TITLE = "Escalations check-in"
READY_RATERS = frozenset(
    f"{name}@{DOMAIN}" for name in ("qa", "qa2", "northwind.qa", "northwind.qa2")
)
READY_PERIOD = "2026-10"
READY_CONVERSATIONS = 4
READY_SEED = 202612


def _users(session: Session) -> tuple[User, list[User]] | None:
    facilitator = find_user_by_email(session, FACILITATOR)
    raters = [find_user_by_email(session, email) for email in RATERS]
    if facilitator is None or any(rater is None for rater in raters):
        return None
    return facilitator, [rater for rater in raters if rater is not None]


def _create(
    session: Session,
    *,
    title: str,
    version: ScorecardVersion,
    series_key: str | None,
    period: str,
    seed: int,
    facilitator: User,
    raters: list[User],
    due_at: datetime,
    instructions: str,
    window_days: int | None = None,
    tags: Sequence[str] = (),
    count: int = CONVERSATIONS,
) -> CalibrationSession | None:
    filters: dict[str, object] = {"window_days": window_days} if window_days else {}
    if tags:
        filters["tags"] = list(tags)
    conversation_ids = services.sample_conversations(
        session,
        raters=raters,
        count=count,
        seed=seed,
        period=period,
        filters=filters or None,
    )
    if len(conversation_ids) < 2:
        return None  # the demo conversations are not there (or all used): nothing to calibrate
    return services.create_session(
        session,
        services.SessionInput(
            title=title,
            scorecard_version_id=version.id,
            conversation_ids=conversation_ids,
            rater_ids=[rater.id for rater in raters],
            due_at=due_at,
            instructions=instructions,
            series_key=series_key,
        ),
        by=facilitator,
    )


def _exists(session: Session, series_key: str) -> bool:
    stmt = select(CalibrationSession.id).where(CalibrationSession.series_key == series_key)
    return session.scalar(stmt) is not None


def _revealed_session(
    session: Session,
    version: ScorecardVersion,
    facilitator: User,
    raters: list[User],
    plan: Round,
) -> CalibrationSession | None:
    """A past month's session: everyone submitted, benchmark recorded, revealed, discussed."""
    calibration = _create(
        session,
        title=plan.title,
        version=version,
        series_key=f"{version.scorecard_id}:{plan.key}",
        period=plan.period,
        window_days=plan.window_days,
        seed=plan.seed,
        facilitator=facilitator,
        raters=raters,
        # The service wants a future due date; the real, past dates are set below.
        due_at=utcnow() + timedelta(days=1),
        instructions=plan.instructions,
    )
    if calibration is None:
        return None
    criteria = ordered_criteria(version)
    truths = {
        item.conversation_id: benchmark_answers(criteria, item.conversation, item.position)
        for item in calibration.items
    }
    for offset, rater in enumerate(raters):
        for position, item in enumerate(calibration.items):
            answers = rater_answers(
                criteria,
                truths[item.conversation_id],
                rater.email,
                item.conversation,
                noise=plan.noise,
                leaning=plan.leaning,
                misread=plan.misread,
            )
            rating = services.save_rating(
                session, calibration, item.conversation_id, answers, by=rater, submit=True
            )
            rating.submitted_at = rating.updated_at = at(
                plan.month, plan.first_rating + 2 * offset + position // 2, 10 + position
            )
    for item in calibration.items:
        answers = {cid: (value, "") for cid, value in truths[item.conversation_id].items()}
        benchmark = services.save_benchmark(
            session,
            calibration,
            item.conversation_id,
            answers,
            by=facilitator,
            overall_comment="Benchmark agreed by the QA leads before the session.",
        )
        benchmark.submitted_at = benchmark.updated_at = at(plan.month, *plan.benchmark)
    services.reveal(session, calibration, by=facilitator)  # stores the figures per group
    _discuss(session, calibration, criteria, facilitator, raters, plan)
    calibration.created_at = at(plan.month, *plan.created)
    calibration.due_at = at(plan.month, *plan.due)
    calibration.revealed_at = at(plan.month, *plan.revealed)
    for row in session.scalars(
        select(CalibrationGroupResult).where(CalibrationGroupResult.session_id == calibration.id)
    ):
        row.computed_at = calibration.revealed_at
    session.flush()
    return calibration


def _discuss(
    session: Session,
    calibration: CalibrationSession,
    criteria: Sequence[Criterion],
    facilitator: User,
    raters: list[User],
    plan: Round,
) -> None:
    by_key = {criterion.key: criterion for criterion in criteria}
    authors = {rater.email: rater for rater in raters} | {facilitator.email: facilitator}
    day, hour = plan.revealed
    for later, (email, body, key, is_decision) in enumerate(plan.notes, start=1):
        criterion = by_key.get(key) if key else None
        if key and criterion is None:
            continue  # the scorecard has no such criterion (any more)
        note = services.add_note(
            session,
            calibration,
            body,
            by=authors[email],
            criterion_id=criterion.id if criterion else None,
            is_decision=is_decision,
        )
        note.created_at = at(plan.month, day, hour + later)


def _open_session(
    session: Session, version: ScorecardVersion, facilitator: User, raters: list[User]
) -> CalibrationSession | None:
    """November's session, due at the end of the month (or a week from now, whichever is later:
    the service refuses a past due date): some raters are done, some are not."""
    due_at = max(at(11, 30, 23), utcnow() + timedelta(days=7))
    calibration = _create(
        session,
        title="November 2026 calibration",
        version=version,
        series_key=f"{version.scorecard_id}:2026-11",
        period="2026-10",
        seed=202611,
        facilitator=facilitator,
        raters=raters,
        due_at=due_at,
        instructions="Mind the decisions of October on identity checks and empathy.",
    )
    if calibration is None:
        return None
    criteria = ordered_criteria(version)
    # Submitted so far: qa@ and northwind.qa2@ everything, qa2@ four, northwind.qa@ three (and
    # a draft), manager@ two, lumen.qa2@ one, lumen.qa@ nothing yet.
    submitted = {
        f"qa@{DOMAIN}": CONVERSATIONS,
        f"northwind.qa2@{DOMAIN}": CONVERSATIONS,
        f"qa2@{DOMAIN}": 4,
        f"northwind.qa@{DOMAIN}": 3,
        f"manager@{DOMAIN}": 2,
        f"lumen.qa2@{DOMAIN}": 1,
    }
    for rater in raters:
        done = submitted.get(rater.email, 0)
        for position, item in enumerate(calibration.items):
            if position > done:
                break
            truth = benchmark_answers(criteria, item.conversation, item.position)
            answers = rater_answers(criteria, truth, rater.email, item.conversation)
            if position == done:
                if rater.email != f"northwind.qa@{DOMAIN}":
                    break
                answers = dict(list(answers.items())[:3])  # a draft half done
            services.save_rating(
                session,
                calibration,
                item.conversation_id,
                answers,
                by=rater,
                submit=position < done,
            )
    return calibration


def _ready_session(
    session: Session, version: ScorecardVersion, facilitator: User, raters: list[User]
) -> CalibrationSession | None:
    """An extra session on escalated conversations, in-house and Northwind's raters only:
    everyone has submitted everything, so the facilitator may reveal it before it is due."""
    from qa_app.demo.answers import generate_review
    from qa_app.demo.reviews import conversation_facts

    stmt = select(CalibrationSession.id).where(CalibrationSession.title == READY_TITLE)
    if session.scalar(stmt) is not None:
        return None
    now = utcnow()
    invited = [rater for rater in raters if rater.email in READY_RATERS]
    calibration = _create(
        session,
        title=READY_TITLE,
        version=version,
        series_key=None,
        period=READY_PERIOD,
        tags=("escalated",),
        count=READY_CONVERSATIONS,
        seed=READY_SEED,
        facilitator=facilitator,
        raters=invited,
        due_at=(now + timedelta(days=3)).replace(hour=17, minute=0, second=0, microsecond=0),
        instructions="Escalated conversations only: was each escalation the right call, with a"
        " complete note and a clear next step for the customer? Score them before we meet.",
    )
    if calibration is None:
        return None
    criteria = ordered_criteria(version)
    facts = conversation_facts(session, [item.conversation for item in calibration.items])
    for item in calibration.items:
        rng = random.Random(f"demo-calibration:ready:{item.conversation.external_id}")
        expected = generate_review(facts[item.conversation_id], criteria, rng).answers
        truth = {criterion.id: expected[criterion.key][0] for criterion in criteria}
        for offset, rater in enumerate(invited):
            answers = rater_answers(criteria, truth, rater.email, item.conversation)
            rating = services.save_rating(
                session, calibration, item.conversation_id, answers, by=rater, submit=True
            )
            moment = now - timedelta(days=6 - offset, hours=20 - 2 * item.position)
            rating.submitted_at = rating.updated_at = moment
    calibration.created_at = now - timedelta(days=8)
    session.flush()
    return calibration


def seed_demo_calibration(session: Session) -> list[CalibrationSession]:
    """Create the demo's calibration sessions that are missing; return those created.

    Needs the demo users (the second raters too), conversations and scorecard. Flushes; the
    caller commits.
    """
    from qa_app.demo.scorecard import seed_default_scorecard
    from qa_app.scorecards.services import published_version

    people = _users(session)
    if people is None:
        return []
    facilitator, raters = people
    scorecard = seed_default_scorecard(session)
    version = published_version(session, scorecard.id)
    if version is None:
        return []
    made: list[CalibrationSession | None] = []
    for plan in ROUNDS:  # in month order, as they happened
        if not _exists(session, f"{scorecard.id}:{plan.key}"):
            made.append(_revealed_session(session, version, facilitator, raters, plan))
    if not _exists(session, f"{scorecard.id}:2026-11"):
        made.append(_open_session(session, version, facilitator, raters))
    made.append(_ready_session(session, version, facilitator, raters))
    return [calibration for calibration in made if calibration is not None]
