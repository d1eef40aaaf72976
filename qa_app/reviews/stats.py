"""Score statistics from SQL sums: mean, SD, t-interval, pooled SD, and reviews needed.

Pure functions (scipy only for the t and normal quantiles): the database hands over, per group,
``n``, the sum and the sum of squares of the scores, and everything else follows:

    mean = S / n,   s^2 = (Q - S^2 / n) / (n - 1),   CI = mean +- t_{n-1} * s / sqrt(n)

which is what ``qa_app.calibration.stats.mean_ci`` computes from the raw values. The pooled
within-agent SD sums each agent's squared deviations from the agent's own mean, so differences
between agents do not count as noise:

    s_pooled^2 = sum_a (Q_a - S_a^2 / n_a) / sum_a (n_a - 1)     (agents with n_a >= 2)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

#: Scores are 0-100, so sums of squares of even a million reviews stay exact enough in float64;
#: a variance that rounding pushes a hair below zero is zero.
_MIN_VARIANCE = 0.0
#: Searching beyond this many reviews per agent and month means the margin asked is unrealistic.
MAX_REVIEWS_NEEDED = 1_000_000


@dataclass(frozen=True)
class ScoreSums:
    """What SQL returns for one group of scores."""

    n: int
    total: float
    total_squares: float


@dataclass(frozen=True)
class ScoreSummary:
    """Mean, sample SD and t-based interval of ``n`` scores (``None`` where undefined)."""

    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None
    confidence: float

    @property
    def half_width(self) -> float | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return (self.ci_high - self.ci_low) / 2.0


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1")


@lru_cache(maxsize=4096)
def t_quantile(confidence: float, df: int) -> float:
    """The two-sided Student-t quantile: ``t`` with P(|T_df| <= t) = confidence."""
    _check_confidence(confidence)
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    from scipy import stats  # type: ignore[import-untyped]  # heavy: import only when needed

    return float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, df))


def z_quantile(confidence: float) -> float:
    """The two-sided normal quantile, e.g. 1.96 for 95 %."""
    _check_confidence(confidence)
    from scipy import stats

    return float(stats.norm.ppf(1.0 - (1.0 - confidence) / 2.0))


def _squared_deviations(sums: ScoreSums) -> float:
    """sum (x - mean)^2 of one group, from its sums."""
    return max(_MIN_VARIANCE, sums.total_squares - sums.total * sums.total / sums.n)


def summarise(sums: ScoreSums, confidence: float = 0.95) -> ScoreSummary:
    """Mean, SD and confidence interval of one group; the interval needs ``n >= 2``."""
    _check_confidence(confidence)
    if sums.n <= 0:
        return ScoreSummary(0, None, None, None, None, confidence)
    mean = sums.total / sums.n
    if sums.n == 1:
        return ScoreSummary(1, mean, None, None, None, confidence)
    sd = math.sqrt(_squared_deviations(sums) / (sums.n - 1))
    half_width = t_quantile(confidence, sums.n - 1) * sd / math.sqrt(sums.n)
    return ScoreSummary(sums.n, mean, sd, mean - half_width, mean + half_width, confidence)


@dataclass(frozen=True)
class PooledSD:
    """The pooled within-group SD, with the groups and scores it rests on."""

    sd: float | None
    groups: int  # groups with at least two scores: the ones that inform the SD
    n: int  # scores in those groups
    df: int  # sum of (n_group - 1)


def pooled_sd(groups: Iterable[ScoreSums]) -> PooledSD:
    """Pool the within-group variance; groups of one score carry no information about it."""
    squares = 0.0
    df = count = n = 0
    for sums in groups:
        if sums.n < 2:
            continue
        squares += _squared_deviations(sums)
        df += sums.n - 1
        count += 1
        n += sums.n
    return PooledSD(math.sqrt(squares / df) if df else None, count, n, df)


def expected_half_width(sd: float, n: int, confidence: float = 0.95) -> float:
    """The half-width ``t_{n-1} * sd / sqrt(n)`` of the interval that ``n`` scores would give."""
    if n < 2:
        raise ValueError("an interval needs at least two scores")
    return t_quantile(confidence, n - 1) * sd / math.sqrt(n)


def reviews_needed(sd: float, margin: float, confidence: float = 0.95) -> int:
    """Reviews per agent per period for a mean within ``+- margin`` points at ``confidence``.

    The normal approximation gives ``n0 = ceil((z * sd / margin)^2)``, but the interval that is
    actually reported uses ``t_{n-1}``, which is wider for small ``n``. So the answer is the
    smallest ``n >= 2`` with ``t_{n-1} * sd / sqrt(n) <= margin``: the half-width shrinks as
    ``n`` grows, ``n0`` is a lower bound (t > z) and ``ceil((t_{n0-1} * sd / margin)^2)`` an
    upper bound, and a bisection between the two finds it exactly. With ``sd == 0`` the answer
    is 2, the fewest scores that give an interval at all.

    :param sd: the expected SD of one agent's scores, e.g. the pooled within-agent SD.
    :raises ValueError: a negative SD, a margin that is not positive, or a confidence outside
        (0, 1); or more than ``MAX_REVIEWS_NEEDED`` reviews would be needed.
    """
    if sd < 0 or not math.isfinite(sd):
        raise ValueError("sd must be a finite number, not negative")
    if margin <= 0 or not math.isfinite(margin):
        raise ValueError("margin must be a positive number")
    _check_confidence(confidence)

    def precise_enough(n: int) -> bool:
        return expected_half_width(sd, n, confidence) <= margin

    low = max(2, math.ceil((z_quantile(confidence) * sd / margin) ** 2))
    if low > MAX_REVIEWS_NEEDED:
        raise ValueError("more than a million reviews would be needed; widen the margin")
    if precise_enough(low):
        return low
    high = max(low + 1, math.ceil((t_quantile(confidence, low - 1) * sd / margin) ** 2))
    while not precise_enough(high):  # cannot happen in exact arithmetic; guards rounding
        high += 1
    while high - low > 1:  # invariant: low is not precise enough, high is
        middle = (low + high) // 2
        if precise_enough(middle):
            high = middle
        else:
            low = middle
    return high
