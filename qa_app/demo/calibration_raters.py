"""The demo calibration's raters: how each departs from the benchmark, and their answers.

Each conversation has a "true" answer per criterion (the benchmark); raters deviate from it now
and then, and the partners' raters on purpose: Northwind's are lenient on empathy, Lumen's strict
on compliance, which the results page shows as bias and as criteria the groups read differently.
The profiles are the raters' October selves; earlier sessions scale their chances up.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from qa_app.conversations.models import Conversation
from qa_app.reviews.answers import AnswerInput
from qa_app.scorecards.models import Criterion
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


def benchmark_answers(
    criteria: Sequence[Criterion], conversation: Conversation, position: int
) -> dict[int, str]:
    quality = QUALITY[position % len(QUALITY)]
    rng = random.Random(f"demo-calibration:benchmark:{conversation.external_id}")
    return {criterion.id: _truth(criterion, quality, rng) for criterion in criteria}


def rater_answers(
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
