"""Agreement on nominal answers (percent agreement, Gwet's AC1) and raters against the benchmark:
deviation, match rate, mean with its interval, group differences, the criteria read most
differently. Pure: no Flask, no database; re-exported by :mod:`qa_app.calibration.stats`."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from qa_app.calibration.rater_data import (
    TOLERANCE_SLACK,
    G,
    K,
    Ratings,
    check_confidence,
    check_n_boot,
    is_missing,
    percentile_interval,
    units_of,
)


def percent_agreement(ratings: Ratings) -> float | None:
    """Share of agreeing rater pairs among all rater pairs within units.

    Easy to explain but chance-blind: when one answer dominates it is high even if raters
    never agree on the rare answer.  Report it next to alpha, not instead of it.  Pairs are
    pooled over units, so a unit rated by more raters weighs more.

    :returns: the share, or ``None`` if no unit has two ratings.
    """
    pairs = 0
    agreeing = 0
    for unit in units_of(ratings):
        m = len(unit)
        pairs += m * (m - 1) // 2
        agreeing += sum(n * (n - 1) // 2 for n in Counter(unit).values())
    return agreeing / pairs if pairs else None


def gwet_ac1(
    ratings: Ratings,
    *,
    categories: Iterable[Hashable] | None = None,
) -> float | None:
    """Gwet's AC1 for nominal ratings by several raters with missing ratings.

    Gwet (2008; Handbook of Inter-Rater Reliability, 2014): percent agreement ``p_a`` is the
    mean over units with >= 2 ratings of ``sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))``; the
    category propensities ``pi_k`` are the mean of ``r_ik / r_i`` over all units with at least
    one rating; ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)``; ``AC1 = (p_a - p_e) / (1 - p_e)``.
    This matches the irrCAC reference implementation.  AC1 stays high when one answer
    dominates and raters agree on it, which is the complement to alpha's view.

    :param categories: all possible answers (``q`` is their number).  Pass the scorecard's
        options: without them ``q`` is the number of answers observed, and a session where
        everybody gave the same answer is not computable.
    :returns: AC1, or ``None`` if no unit has two ratings or fewer than two categories exist.
    :raises ValueError: a rating is not among ``categories``.
    """
    units = [unit for unit in units_of(ratings) if unit]
    paired = [unit for unit in units if len(unit) >= 2]
    if not paired:
        return None
    observed = list(dict.fromkeys(value for unit in units for value in unit))
    if categories is None:
        labels = observed
    else:
        labels = list(dict.fromkeys(categories))
        unknown = set(observed) - set(labels)
        if unknown:
            raise ValueError(f"ratings outside categories: {sorted(map(repr, unknown))}")
    q = len(labels)
    if q < 2:
        return None
    p_a = statistics.fmean(
        sum(n * (n - 1) for n in Counter(unit).values()) / (len(unit) * (len(unit) - 1))
        for unit in paired
    )
    share: dict[Hashable, float] = {}
    for unit in units:
        for value, n in Counter(unit).items():
            share[value] = share.get(value, 0.0) + n / len(unit)
    p_e = sum((s / len(units)) * (1.0 - s / len(units)) for s in share.values()) / (q - 1)
    return (p_a - p_e) / (1.0 - p_e)  # p_e <= 1/q <= 1/2, so never a division by zero


@dataclass(frozen=True)
class RaterDeviation:
    """How far a rater's total scores sit from the benchmark scores, over ``n`` shared units.

    All figures are ``None`` when ``n == 0``.  ``signed_bias`` is the mean of
    rater minus benchmark: positive means the rater scores more leniently than the benchmark.
    """

    n: int
    mean_absolute_deviation: float | None
    signed_bias: float | None
    share_within_tolerance: float | None


def rater_deviation(
    scores: Mapping[K, float | None],
    benchmark: Mapping[K, float | None],
    tolerance: float = 5.0,
) -> RaterDeviation:
    """Compare a rater's total scores (0-100) with the benchmark, unit by unit.

    Only units scored on both sides count; ``None``/NaN scores are treated as not scored.

    :param tolerance: a unit is "within tolerance" when ``|rater - benchmark| <= tolerance``
        points (inclusive, with 1e-9 slack for floating-point rounding).
    """
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    diffs: list[float] = []
    for unit, score in scores.items():
        gold = benchmark.get(unit)
        if score is None or gold is None or is_missing(score) or is_missing(gold):
            continue
        diffs.append(float(score) - float(gold))
    if not diffs:
        return RaterDeviation(0, None, None, None)
    n = len(diffs)
    return RaterDeviation(
        n=n,
        mean_absolute_deviation=statistics.fmean(abs(d) for d in diffs),
        signed_bias=statistics.fmean(diffs),
        share_within_tolerance=sum(abs(d) <= tolerance + TOLERANCE_SLACK for d in diffs) / n,
    )


def criterion_match_rate(
    answers: Mapping[K, Hashable],
    benchmark: Mapping[K, Hashable],
) -> float | None:
    """Share of answers equal to the benchmark, over the keys both sides answered.

    Keys are typically ``(conversation, criterion)``.  N/A is compared like any other label:
    a rater marking N/A where the benchmark says "yes" (or the reverse) is a mismatch, which is
    exactly the policy misreading calibration must surface.  Leave unanswered items out of
    the mappings rather than passing them as ``None``.

    :returns: the share, or ``None`` if no key is in both mappings.
    """
    shared = [key for key in answers if key in benchmark]
    if not shared:
        return None
    return sum(answers[key] == benchmark[key] for key in shared) / len(shared)


@dataclass(frozen=True)
class MeanCI:
    """A mean with its t-based confidence interval (``None`` where undefined)."""

    n: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> MeanCI:
    """Mean with a Student-t confidence interval: ``mean +- t_{n-1} * s / sqrt(n)``.

    The t quantile comes from ``scipy.stats.t.ppf`` (scipy is installed with scikit-learn).
    The interval needs ``n >= 2``; with one value only the mean is given.
    """
    check_confidence(confidence)
    data = [float(v) for v in values]
    n = len(data)
    if n == 0:
        return MeanCI(0, None, None, None)
    mean = statistics.fmean(data)
    if n == 1:
        return MeanCI(1, mean, None, None)
    from scipy import stats  # type: ignore[import-untyped]  # heavy: import only when needed

    quantile = float(stats.t.ppf(1.0 - (1.0 - confidence) / 2.0, n - 1))
    half_width = quantile * statistics.stdev(data) / math.sqrt(n)
    return MeanCI(n, mean, mean - half_width, mean + half_width)


@dataclass(frozen=True)
class GroupDifference:
    """Difference of means, group minus reference, with a bootstrap percentile interval.

    ``difference`` is ``None`` if either group is empty; the interval is ``None`` if either
    group has fewer than two values.
    """

    difference: float | None
    ci_low: float | None
    ci_high: float | None
    n_group: int
    n_reference: int


def group_difference(
    group_values: Sequence[float],
    reference_values: Sequence[float],
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> GroupDifference:
    """Compare e.g. partner raters' scores (group) with in-house raters' (reference).

    The interval resamples each group independently with replacement, so it makes no
    normality or equal-variance assumption.  Positive = the group scores higher.

    :param seed: seeds numpy's default generator, so the interval is reproducible.
    """
    check_n_boot(n_boot)
    check_confidence(confidence)
    group = np.asarray(group_values, dtype=np.float64)
    reference = np.asarray(reference_values, dtype=np.float64)
    if group.size == 0 or reference.size == 0:
        return GroupDifference(None, None, None, int(group.size), int(reference.size))
    difference = float(group.mean() - reference.mean())
    if group.size < 2 or reference.size < 2:
        return GroupDifference(difference, None, None, int(group.size), int(reference.size))
    rng = np.random.default_rng(seed)
    group_means = group[rng.integers(0, group.size, size=(n_boot, group.size))].mean(axis=1)
    reference_means = reference[
        rng.integers(0, reference.size, size=(n_boot, reference.size))
    ].mean(axis=1)
    low, high = percentile_interval(group_means - reference_means, confidence)
    return GroupDifference(difference, low, high, int(group.size), int(reference.size))


def divergence_ranking(
    per_criterion: Mapping[K, Mapping[G, float | None]],
    reference_group: G,
) -> list[tuple[K, float]]:
    """Criteria ordered by how differently the groups read them: "where policy diverges".

    :param per_criterion: for each criterion, a figure per group (match rate or mean score).
    :param reference_group: the group the others are measured against (e.g. in-house).
    :returns: ``(criterion, gap)`` pairs, largest gap first, where gap is the largest
        absolute difference between any other group's figure and the reference group's.
        Criteria without a reference figure or without any other group's figure are left out
        (``None``/NaN counts as no figure).  Ties keep the input order.
    """
    ranking: list[tuple[K, float]] = []
    for criterion, by_group in per_criterion.items():
        reference = by_group.get(reference_group)
        if reference is None or is_missing(reference):
            continue
        gaps = [
            abs(float(value) - float(reference))
            for group, value in by_group.items()
            if group != reference_group and value is not None and not is_missing(value)
        ]
        if gaps:
            ranking.append((criterion, max(gaps)))
    ranking.sort(key=lambda item: item[1], reverse=True)  # stable: ties keep input order
    return ranking
