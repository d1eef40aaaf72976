"""The demo's calibration: three revealed monthly sessions that agree better and better, and an
open November one.

Ratings are generated from seeded random numbers, so every demo shows the same figures. Each
conversation has a "true" answer per criterion (the benchmark); raters deviate from it now and
then, and the partners' raters on purpose: Northwind's are lenient on empathy, Lumen's strict on
compliance, which the results page shows as bias and as criteria the groups read differently.
Every group has two raters or more, so each group's agreement can be computed.

Three monthly sessions are revealed, August to October, each on five other in-house
conversations. From one to the next slips get rarer, the deliberate deviations weaker and
misreadings of the scorecard (a critical check read the other way) stop, so the trends page
shows agreement improving; the raters' profiles below are their October selves.
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
RATERS = (
    f"qa@{DOMAIN}",
    f"northwind.qa@{DOMAIN}",
    f"lumen.qa@{DOMAIN}",
    f"manager@{DOMAIN}",
    # Second raters (made by `seed_users`), so each group's agreement is computable.
    f"qa2@{DOMAIN}",
    f"northwind.qa2@{DOMAIN}",
    f"lumen.qa2@{DOMAIN}",
)
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
    """How a rater departs from the benchmark: now and then, and on purpose on some criteria.

    The chances are the rater's in October; earlier sessions scale them up (see `Round`).
    """

    noise: float  # chance of a one-step slip on any criterion
    deviate: Callable[[Criterion, str, random.Random, float], str | None]  # deliberate, or None
    leaning: float = 1.0  # how strongly the rater follows the pattern of `deviate`


def _no_pattern(criterion: Criterion, truth: str, rng: random.Random, leaning: float) -> str | None:
    return None


def _chance(base: float, leaning: float) -> float:
    return min(base * leaning, 0.95)


def _lenient_on_empathy(
    criterion: Criterion, truth: str, rng: random.Random, leaning: float
) -> str | None:
    if criterion.key in LENIENT and truth.isdigit() and rng.random() < _chance(0.8, leaning):
        return str(min(int(truth) + 1, criterion.scale_max))
    return None


def _strict_on_compliance(
    criterion: Criterion, truth: str, rng: random.Random, leaning: float
) -> str | None:
    if criterion.key not in COMPLIANCE:
        return None
    if truth == "yes" and rng.random() < _chance(0.6, leaning):
        return "no"
    if truth == NA and rng.random() < _chance(0.4, leaning):
        return "no"  # "it was required here": applicability is read strictly too
    return None


PROFILES = {
    f"qa@{DOMAIN}": Profile(0.08, _no_pattern),
    f"manager@{DOMAIN}": Profile(0.05, _no_pattern),
    f"northwind.qa@{DOMAIN}": Profile(0.10, _lenient_on_empathy),
    f"lumen.qa@{DOMAIN}": Profile(0.10, _strict_on_compliance),
    # The second raters share their partner's reading: Northwind's more mildly, Lumen's more so.
    f"qa2@{DOMAIN}": Profile(0.08, _no_pattern),
    f"northwind.qa2@{DOMAIN}": Profile(0.10, _lenient_on_empathy, leaning=0.8),
    f"lumen.qa2@{DOMAIN}": Profile(0.10, _strict_on_compliance, leaning=1.2),
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
    slips on N/A or on a critical criterion: those are not close calls (only a rater who
    misreads the scorecard gets them wrong, see `_misread`)."""
    if truth == NA or criterion.critical != Critical.NO:
        return truth
    if criterion.kind == CriterionKind.YES_NO:
        return "no" if truth == "yes" else "yes"
    low, high = _range(criterion)
    step = rng.choice([-1, 1])
    value = int(truth) + step
    return str(value if low <= value <= high else int(truth) - step)


def _misread(criterion: Criterion, value: str, rng: random.Random) -> str:
    """What a rater new to the scorecard gets wrong: a section's critical check read the other
    way (failing or saving the section), another step off on a scale or points."""
    if criterion.critical == Critical.SECTION and value in {"yes", "no"}:
        return "no" if value == "yes" else "yes"
    if criterion.critical == Critical.NO and value.isdigit():
        return _slip(criterion, value, rng)
    return value


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
    *,
    noise: float = 1.0,
    leaning: float = 1.0,
    misread: float = 0.0,
) -> dict[int, AnswerInput]:
    """A rater's answers; ``noise`` and ``leaning`` scale the profile's chances (1: October),
    ``misread`` is the chance of misreading the scorecard on a criterion (see `_misread`)."""
    profile = PROFILES.get(email, Profile(0.1, _no_pattern))
    rng = random.Random(f"demo-calibration:{email}:{conversation.external_id}")
    answers: dict[int, AnswerInput] = {}
    comment_key, comment = COMMENTS.get(email, ("", ""))
    for criterion in criteria:
        value = truth[criterion.id]
        deliberate = profile.deviate(criterion, value, rng, profile.leaning * leaning)
        if deliberate is not None:
            answers[criterion.id] = (deliberate, comment if criterion.key == comment_key else "")
            continue
        if rng.random() < profile.noise * noise:
            value = _slip(criterion, value, rng)
        if misread and rng.random() < misread:
            value = _misread(criterion, value, rng)
        answers[criterion.id] = (value, "")
    return answers


# Sessions ---------------------------------------------------------------------------------------

Note = tuple[str, str, str | None, bool]  # author's e-mail, body, criterion key, is a decision


@dataclass(frozen=True)
class Round:
    """One revealed monthly session: when it ran, what it sampled and how far the raters were.

    Days and hours are of ``month`` (2026). ``noise`` and ``leaning`` scale every rater's chance of
    a slip and of a deliberate deviation: 1 is October, more is the scattered start; ``misread``
    is the chance, on any criterion, of misreading the scorecard (none by October).
    """

    month: int
    period: str  # the conversations sampled: an ISO week or a month
    window_days: int | None  # only the last days of ``period`` (see the sampling filters)
    seed: int
    noise: float
    leaning: float
    misread: float
    created: tuple[int, int]
    first_rating: int  # the day the first ratings came in; then one rater every other day
    due: tuple[int, int]
    benchmark: tuple[int, int]
    revealed: tuple[int, int]
    instructions: str
    notes: tuple[Note, ...]

    @property
    def key(self) -> str:
        return f"2026-{self.month:02d}"

    @property
    def title(self) -> str:
        return f"{_at(self.month, 1, 0):%B} 2026 calibration"


ROUNDS = (
    Round(
        month=8,
        period="2026-W32",  # 3 to 9 August: before the session was set up
        window_days=None,
        seed=202608,
        noise=2.5,
        leaning=1.25,
        misread=0.12,
        created=(10, 9),
        first_rating=10,
        due=(26, 23),
        benchmark=(27, 16),
        revealed=(28, 14),
        instructions="Our first monthly calibration: score each conversation on your own, as in"
        " a review.",
        notes=(
            (
                FACILITATOR,
                "The totals spread widely in this first session, on nearly every criterion."
                " Before September everyone re-reads the guidance of each criterion, empathy"
                " and the compliance checks first.",
                None,
                False,
            ),
        ),
    ),
    Round(
        month=9,
        period="2026-08",
        window_days=14,  # the last two weeks of August: none of August's session
        seed=202609,
        noise=1.6,
        leaning=1.1,
        misread=0.06,
        created=(1, 9),
        first_rating=2,
        due=(18, 23),
        benchmark=(21, 16),
        revealed=(22, 14),
        instructions="Re-read the guidance on empathy and identity checks before you score.",
        notes=(
            (
                FACILITATOR,
                "Closer than in August. Empathy and the compliance checks are still read"
                " differently by the partners: we settle them in October.",
                None,
                False,
            ),
        ),
    ),
    Round(
        month=10,
        period="2026-09",
        window_days=None,
        seed=202610,
        noise=1.0,
        leaning=1.0,
        misread=0.0,
        created=(1, 9),
        first_rating=5,
        due=(20, 23),
        benchmark=(21, 16),
        revealed=(22, 14),
        instructions="Score each conversation on your own before Tuesday's meeting.",
        notes=(
            (
                f"lumen.qa@{DOMAIN}",
                "We marked identity as not verified whenever the agent used the order number"
                " alone.",
                "identity_verified",
                False,
            ),
            (
                FACILITATOR,
                "Order number plus the e-mail address on file counts as verified in chat; a"
                " second factor is needed only before changing payment details.",
                "identity_verified",
                True,
            ),
            (
                FACILITATOR,
                "A 4 needs the agent to name the customer's specific situation and adapt the"
                " solution to it; a generic apology is a 2.",
                "acknowledges_situation",
                True,
            ),
        ),
    ),
)


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
    window_days: int | None = None,
) -> CalibrationSession | None:
    conversation_ids = services.sample_conversations(
        session,
        raters=raters,
        count=CONVERSATIONS,
        seed=seed,
        period=period,
        filters={"window_days": window_days} if window_days else None,
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


def _at(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


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
        item.conversation_id: _benchmark(criteria, item.conversation, item.position)
        for item in calibration.items
    }
    for offset, rater in enumerate(raters):
        for position, item in enumerate(calibration.items):
            answers = _rater_answers(
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
            rating.submitted_at = rating.updated_at = _at(
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
        benchmark.submitted_at = benchmark.updated_at = _at(plan.month, *plan.benchmark)
    services.reveal(session, calibration, by=facilitator)  # stores the figures per group
    _discuss(session, calibration, criteria, facilitator, raters, plan)
    calibration.created_at = _at(plan.month, *plan.created)
    calibration.due_at = _at(plan.month, *plan.due)
    calibration.revealed_at = _at(plan.month, *plan.revealed)
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
        note.created_at = _at(plan.month, day, hour + later)


def _open_session(
    session: Session, version: ScorecardVersion, facilitator: User, raters: list[User]
) -> CalibrationSession | None:
    """November's session, due at the end of the month (or a week from now, whichever is later:
    the service refuses a past due date): some raters are done, some are not."""
    due_at = max(_at(11, 30, 23), utcnow() + timedelta(days=7))
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

    Needs the demo users (the second raters too), conversations and scorecard. Flushes; the
    caller commits.
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
    made: list[CalibrationSession | None] = []
    for plan in ROUNDS:  # in month order, as they happened
        if not _exists(session, f"{scorecard.id}:{plan.key}"):
            made.append(_revealed_session(session, version, facilitator, raters, plan))
    if not _exists(session, f"{scorecard.id}:2026-11"):
        made.append(_open_session(session, version, facilitator, raters))
    return [calibration for calibration in made if calibration is not None]
