"""The demo calibration's monthly sessions as they happened: dates, samples and discussion.

Three monthly sessions are revealed, August to October, each on five other in-house
conversations. From one to the next slips get rarer, the deliberate deviations weaker and
misreadings of the scorecard (a critical check read the other way) stop, so the trends page
shows agreement improving.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from qa_app.demo.calibration_raters import DOMAIN, FACILITATOR

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
        return f"{at(self.month, 1, 0):%B} 2026 calibration"


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


def at(month: int, day: int, hour: int) -> datetime:
    """A moment of the demo's 2026, in UTC."""
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)
