"""The demo's calibration: a revealed October session with telling patterns, an open November one.

Ratings are generated from seeded random numbers, so every demo shows the same figures. Each
conversation has a "true" answer per criterion (the benchmark); raters deviate from it now and
then, and two deviate on purpose: Northwind's QA is lenient on empathy, Lumen's QA strict on
compliance, which the results page shows as bias and as criteria the groups read differently.
Sessions are found again by their series key (as `schedule-calibration` makes them), so running
the seed again adds nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.auth.services import find_user_by_email
from qa_app.calibration import services
from qa_app.calibration.models import CalibrationGroupResult, CalibrationSession
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.reviews.answers import AnswerInput, ordered_criteria
from qa_app.scorecards.models import Criterion, ScorecardVersion
from qa_app.scorecards.scoring import NA, CriterionKind, Critical

DOMAIN = "demo.qa-app.org"
FACILITATOR = f"manager@{DOMAIN}"
RATERS = (f"qa@{DOMAIN}", f"northwind.qa@{DOMAIN}", f"lumen.qa@{DOMAIN}", f"manager@{DOMAIN}")
CONVERSATIONS = 5
EMPATHY = frozenset({"acknowledges_situation"})
# Northwind reads "empathy" broadly: the situation, and the warmth of the tone.
LENIENT = EMPATHY | {"professionalism"}
COMPLIANCE = frozenset({"identity_verified", "required_disclosures"})
# How good each conversation of a session is, by position: a spread, as in real samples.
QUALITY = (0.95, 0.7, 0.3, 0.85, 0.55)
EMPATHY_GAP = 0.25  # agents fall short on empathy more than elsewhere: room for leniency


@dataclass(frozen=True)
class Profile:
    """How a rater departs from the benchmark: now and then, and on purpose on some criteria."""

    noise: float  # chance of a one-step slip on any criterion
    deviate: Callable[[Criterion, str, random.Random], str | None]  # a deliberate answer, or None


def _no_pattern(criterion: Criterion, truth: str, rng: random.Random) -> str | None:
    return None


def _lenient_on_empathy(criterion: Criterion, truth: str, rng: random.Random) -> str | None:
    if criterion.key in LENIENT and truth.isdigit() and rng.random() < 0.8:
        return str(min(int(truth) + 1, criterion.scale_max))
    return None


def _strict_on_compliance(criterion: Criterion, truth: str, rng: random.Random) -> str | None:
    if criterion.key not in COMPLIANCE:
        return None
    if truth == "yes" and rng.random() < 0.6:
        return "no"
    if truth == NA and rng.random() < 0.4:
        return "no"  # "it was required here": applicability is read strictly too
    return None


PROFILES = {
    f"qa@{DOMAIN}": Profile(0.08, _no_pattern),
    f"manager@{DOMAIN}": Profile(0.05, _no_pattern),
    f"northwind.qa@{DOMAIN}": Profile(0.10, _lenient_on_empathy),
    f"lumen.qa@{DOMAIN}": Profile(0.10, _strict_on_compliance),
}
COMMENTS = {
    f"northwind.qa@{DOMAIN}": ("acknowledges_situation", "The agent clearly cared about this."),
    f"lumen.qa@{DOMAIN}": ("identity_verified", "No second factor asked: not verified."),
}


# Answers ----------------------------------------------------------------------------------------


def _truth(criterion: Criterion, quality: float, rng: random.Random) -> str:
    """A plausible benchmark answer for a conversation of the given quality (0 to 1)."""
    if criterion.kind == CriterionKind.YES_NO:
        if criterion.critical == Critical.REVIEW:
            return "yes"  # a failed review would swamp every other difference in the demo
        if criterion.critical == Critical.SECTION:
            return "yes" if quality >= 0.4 else "no"
        if criterion.allow_na and rng.random() < 0.2:
            return NA
        return "yes" if rng.random() < quality else "no"
    if criterion.allow_na and rng.random() < 0.05:
        return NA
    low, high = _range(criterion)
    if criterion.key in EMPATHY:
        quality -= EMPATHY_GAP
    value = round(low + quality * (high - low) + rng.gauss(0, 0.4))
    return str(min(max(value, low), high))


def _range(criterion: Criterion) -> tuple[int, int]:
    if criterion.kind == CriterionKind.SCALE:
        return 1, criterion.scale_max
    return 0, criterion.max_points


def _slip(criterion: Criterion, truth: str, rng: random.Random) -> str:
    """A small disagreement: the other yes/no answer, or the neighbouring scale point. Nobody
    slips on N/A or on a critical criterion: those are not close calls."""
    if truth == NA or criterion.critical != Critical.NO:
        return truth
    if criterion.kind == CriterionKind.YES_NO:
        return "no" if truth == "yes" else "yes"
    low, high = _range(criterion)
    step = rng.choice([-1, 1])
    value = int(truth) + step
    return str(value if low <= value <= high else int(truth) - step)


def _benchmark(
    criteria: Sequence[Criterion], conversation: Conversation, position: int
) -> dict[int, str]:
    quality = QUALITY[position % len(QUALITY)]
    rng = random.Random(f"demo-calibration:benchmark:{conversation.external_id}")
    return {criterion.id: _truth(criterion, quality, rng) for criterion in criteria}


def _rater_answers(
    criteria: Sequence[Criterion],
    truth: dict[int, str],
    email: str,
    conversation: Conversation,
) -> dict[int, AnswerInput]:
    profile = PROFILES.get(email, Profile(0.1, _no_pattern))
    rng = random.Random(f"demo-calibration:{email}:{conversation.external_id}")
    answers: dict[int, AnswerInput] = {}
    comment_key, comment = COMMENTS.get(email, ("", ""))
    for criterion in criteria:
        value = truth[criterion.id]
        deliberate = profile.deviate(criterion, value, rng)
        if deliberate is not None:
            answers[criterion.id] = (deliberate, comment if criterion.key == comment_key else "")
            continue
        if rng.random() < profile.noise:
            value = _slip(criterion, value, rng)
        answers[criterion.id] = (value, "")
    return answers


# Sessions ---------------------------------------------------------------------------------------


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
    series_key: str,
    period: str,
    seed: int,
    facilitator: User,
    raters: list[User],
    due_at: datetime,
    instructions: str,
) -> CalibrationSession | None:
    conversation_ids = services.sample_conversations(
        session, raters=raters, count=CONVERSATIONS, seed=seed, period=period
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


def _at(day: int, hour: int, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def _revealed_session(
    session: Session, version: ScorecardVersion, facilitator: User, raters: list[User]
) -> CalibrationSession | None:
    """October's session: everyone submitted, benchmark recorded, revealed, discussed."""
    calibration = _create(
        session,
        title="October 2026 calibration",
        version=version,
        series_key=f"{version.scorecard_id}:2026-10",
        period="2026-09",
        seed=202610,
        facilitator=facilitator,
        raters=raters,
        # The service wants a future due date; the real, past dates are set below.
        due_at=utcnow() + timedelta(days=1),
        instructions="Score each conversation on your own before Tuesday's meeting.",
    )
    if calibration is None:
        return None
    criteria = ordered_criteria(version)
    truths = {
        item.conversation_id: _benchmark(criteria, item.conversation, item.position)
        for item in calibration.items
    }
    for offset, rater in enumerate(raters):
        for position, item in enumerate(calibration.items):
            answers = _rater_answers(
                criteria, truths[item.conversation_id], rater.email, item.conversation
            )
            rating = services.save_rating(
                session, calibration, item.conversation_id, answers, by=rater, submit=True
            )
            rating.submitted_at = rating.updated_at = _at(
                5 + 3 * offset + position // 2, 10 + position
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
        benchmark.submitted_at = benchmark.updated_at = _at(21, 16)
    services.reveal(session, calibration, by=facilitator)
    _discuss(session, calibration, criteria, facilitator, raters)
    calibration.created_at = _at(1, 9)
    calibration.due_at = _at(20, 23)
    calibration.revealed_at = _at(22, 14)
    for row in session.scalars(
        select(CalibrationGroupResult).where(CalibrationGroupResult.session_id == calibration.id)
    ):
        row.computed_at = _at(22, 14)
    session.flush()
    return calibration


def _discuss(
    session: Session,
    calibration: CalibrationSession,
    criteria: Sequence[Criterion],
    facilitator: User,
    raters: list[User],
) -> None:
    by_key = {criterion.key: criterion for criterion in criteria}
    by_email = {rater.email: rater for rater in raters}
    notes: list[tuple[User, str, str | None, bool]] = [
        (
            by_email[f"lumen.qa@{DOMAIN}"],
            "We marked identity as not verified whenever the agent used the order number alone.",
            "identity_verified",
            False,
        ),
        (
            facilitator,
            "Order number plus the e-mail address on file counts as verified in chat; a second"
            " factor is needed only before changing payment details.",
            "identity_verified",
            True,
        ),
        (
            facilitator,
            "A 4 needs the agent to name the customer's specific situation and adapt the"
            " solution to it; a generic apology is a 2.",
            "acknowledges_situation",
            True,
        ),
    ]
    for hour, (author, body, key, is_decision) in enumerate(notes, start=15):
        criterion = by_key.get(key) if key else None
        if criterion is None:
            continue
        note = services.add_note(
            session,
            calibration,
            body,
            by=author,
            criterion_id=criterion.id,
            is_decision=is_decision,
        )
        note.created_at = _at(22, hour)


def _open_session(
    session: Session, version: ScorecardVersion, facilitator: User, raters: list[User]
) -> CalibrationSession | None:
    """November's session, due at the end of the month: some raters are done, some are not."""
    due_at = max(_at(30, 23, month=11), utcnow() + timedelta(days=7))
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
    # qa@ has submitted everything, northwind.qa@ three (and a draft), manager@ two, lumen.qa@
    # nothing yet.
    submitted = {
        f"qa@{DOMAIN}": CONVERSATIONS,
        f"northwind.qa@{DOMAIN}": 3,
        f"manager@{DOMAIN}": 2,
    }
    for rater in raters:
        done = submitted.get(rater.email, 0)
        for position, item in enumerate(calibration.items):
            if position > done:
                break
            truth = _benchmark(criteria, item.conversation, item.position)
            answers = _rater_answers(criteria, truth, rater.email, item.conversation)
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


def seed_demo_calibration(session: Session) -> list[CalibrationSession]:
    """Create the demo's calibration sessions that are missing; return those created.

    Needs the demo users, conversations and scorecard. Flushes; the caller commits.
    """
    from qa_app.scorecards.demo import seed_default_scorecard
    from qa_app.scorecards.services import published_version

    people = _users(session)
    if people is None:
        return []
    facilitator, raters = people
    scorecard = seed_default_scorecard(session)
    version = published_version(session, scorecard.id)
    if version is None:
        return []
    created = []
    for month, build in (("2026-10", _revealed_session), ("2026-11", _open_session)):
        if _exists(session, f"{scorecard.id}:{month}"):
            continue
        calibration = build(session, version, facilitator, raters)
        if calibration is not None:
            created.append(calibration)
    return created
