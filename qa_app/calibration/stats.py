"""Agreement and accuracy statistics for calibration sessions.

Pure functions (plain Python + numpy, scipy only for the t quantile): no Flask, no database.

Layout of rater data used throughout: ``ratings`` is a sequence of rows, one row per rater and
one column per unit (a conversation, or one criterion on one conversation).  ``None`` -- or a
float NaN, as pandas and numpy produce -- marks a missing rating.

Krippendorff's alpha follows the coincidence-matrix formulation of Krippendorff (2011),
"Computing Krippendorff's Alpha-Reliability": units with fewer than two ratings are not
pairable and carry no information, and

    alpha = 1 - D_o / D_e = 1 - (n - 1) * sum_ck o_ck delta2_ck / sum_ck n_c n_k delta2_ck

where ``o_ck`` is the coincidence matrix, ``n_c`` its marginals and ``n`` the number of
pairable values.  The coefficient is reported as ``None`` -- never a made-up 0 or 1 -- when
there is nothing to pair or no variation among the pairable values.
"""

from __future__ import annotations

import math
import numbers
import statistics
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

import numpy as np
from numpy.typing import NDArray

LEVELS: Final[tuple[str, ...]] = ("nominal", "ordinal", "interval", "ratio")

Ratings = Sequence[Sequence[Hashable | None]]
"""One row per rater, one column per unit; ``None`` (or NaN) = missing."""

#: Krippendorff's reading guide: rely on data with alpha >= .800, draw only tentative
#: conclusions from .667 <= alpha < .800, discard below (Krippendorff 2004, ch. 11.4).
ALPHA_RELIABLE: Final = 0.800
ALPHA_TENTATIVE: Final = 0.667
ALPHA_READING_GUIDE: Final[Mapping[str, str]] = {
    "reliable": "alpha >= 0.800: raters apply the scorecard consistently.",
    "tentative": "0.667 <= alpha < 0.800: usable for tentative conclusions only.",
    "unreliable": "alpha < 0.667: raters read the scorecard differently; recalibrate.",
    "not computable": "too few paired ratings, or no variation among them, to judge.",
}

#: Bootstrap resamples are drawn in blocks of this many to bound memory use.
_BOOTSTRAP_CHUNK: Final = 256
#: Slack for "within tolerance" so that e.g. 85.1 vs 80.1 counts as exactly 5 points apart.
_TOLERANCE_SLACK: Final = 1e-9

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)

FloatArray = NDArray[np.float64]


# --------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    """None and float NaN are missing ratings (NaN never equals itself, so it cannot count)."""
    if value is None:
        return True
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return math.isnan(float(value))
    return False


def _units(ratings: Ratings) -> list[list[Hashable]]:
    """Transpose rater rows into per-unit lists of the ratings present."""
    rows = [list(row) for row in ratings]
    if not rows:
        return []
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError("ratings must be rectangular: every rater row needs one cell per unit")
    return [[row[j] for row in rows if not _is_missing(row[j])] for j in range(width)]


def _check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1")


def _check_n_boot(n_boot: int) -> None:
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")


# --------------------------------------------------------------------------------------
# Krippendorff's alpha
# --------------------------------------------------------------------------------------


class _AlphaData:
    """Pairable units encoded once, so any (re)weighting of units is a few array operations.

    ``counts[u, c]`` is how often value ``c`` occurs in pairable unit ``u``.  Every quantity in
    alpha is a sum over units, so a bootstrap resample -- unit ``u`` drawn ``w_u`` times -- is
    just the same sums with weights ``w`` (Hayes & Krippendorff 2007).  Within-unit
    disagreement is kept as a sparse list of value pairs (``pair_c``, ``pair_k``, ``pair_unit``,
    ``pair_weight``), so it is summed exactly rather than via a variance shortcut.
    """

    def __init__(
        self,
        units: list[list[Hashable]],
        level: str,
        order: Sequence[Hashable] | None,
    ) -> None:
        _check_level(level)
        if order is not None and level != "ordinal":
            raise ValueError("order is only meaningful at the ordinal level")
        self.level = level
        keys = iter(self._keys([value for unit in units for value in unit], level))
        keyed_units = [[next(keys) for _ in unit] for unit in units]
        # Column index of each pairable unit, in the original ratings.
        self.columns = [j for j, unit in enumerate(keyed_units) if len(unit) >= 2]
        pairable = [unit for unit in keyed_units if len(unit) >= 2]
        ordered = self._ordered_values(keyed_units, level, order)
        in_pairable = {value for unit in pairable for value in unit}
        self.values = [value for value in ordered if value in in_pairable]
        index = {value: i for i, value in enumerate(self.values)}

        n_units, n_values = len(pairable), len(self.values)
        self.counts: FloatArray = np.zeros((n_units, n_values))
        pair_c: list[int] = []
        pair_k: list[int] = []
        pair_unit: list[int] = []
        pair_weight: list[float] = []
        for u, unit in enumerate(pairable):
            tally = Counter(index[value] for value in unit)
            for c, count in tally.items():
                self.counts[u, c] = count
            m_u = len(unit)
            cells = sorted(tally.items())
            for i, (c, n_c) in enumerate(cells):
                for k, n_k in cells[i + 1 :]:
                    # Both ordered pairs (c, k) and (k, c): coincidences o_ck and o_kc.
                    pair_c.append(c)
                    pair_k.append(k)
                    pair_unit.append(u)
                    pair_weight.append(2.0 * n_c * n_k / (m_u - 1))
        self.pair_c = np.asarray(pair_c, dtype=np.intp)
        self.pair_k = np.asarray(pair_k, dtype=np.intp)
        self.pair_unit = np.asarray(pair_unit, dtype=np.intp)
        self.pair_weight = np.asarray(pair_weight, dtype=np.float64)

        if level == "ordinal":
            return  # the ordinal metric depends on the marginals, so on the weights
        self.numeric: FloatArray = (
            np.asarray(self.values, dtype=np.float64) if level != "nominal" else np.zeros(0)
        )
        pair_delta = self._fixed_delta(self.pair_c, self.pair_k)
        # Observed disagreement contributed by each unit: sum_ck n_uc n_uk delta2 / (m_u - 1).
        self.unit_disagreement: FloatArray = np.bincount(
            self.pair_unit, weights=self.pair_weight * pair_delta, minlength=n_units
        ).astype(np.float64)
        if level == "ratio":
            grid_c, grid_k = np.meshgrid(np.arange(n_values), np.arange(n_values), indexing="ij")
            self.delta_matrix: FloatArray = self._fixed_delta(grid_c, grid_k)

    @staticmethod
    def _keys(present: list[Hashable], level: str) -> list[Hashable]:
        """Validate values for the level; numeric levels compare values as floats."""
        if level in ("interval", "ratio"):
            keys: list[Hashable] = []
            for value in present:
                if not isinstance(value, numbers.Real):
                    raise ValueError(f"{level} level needs numbers, got {value!r}")
                number = float(value)
                if not math.isfinite(number):
                    raise ValueError(f"{level} level needs finite numbers, got {value!r}")
                if level == "ratio" and number < 0:
                    raise ValueError(f"ratio level needs non-negative numbers, got {value!r}")
                keys.append(number)
            return keys
        return list(present)

    @staticmethod
    def _ordered_values(
        units: list[list[Hashable]],
        level: str,
        order: Sequence[Hashable] | None,
    ) -> list[Hashable]:
        """All distinct values present, ordered for the level (validates every value)."""
        distinct = list(dict.fromkeys(value for unit in units for value in unit))
        if level == "nominal":
            return distinct
        if order is not None:
            ranked = list(dict.fromkeys(order))
            if len(ranked) != len(order):
                raise ValueError("order lists a value more than once")
            unknown = set(distinct) - set(ranked)
            if unknown:
                raise ValueError(f"values missing from order: {sorted(map(repr, unknown))}")
            seen = set(distinct)
            return [value for value in ranked if value in seen]
        try:
            return sorted(distinct)  # type: ignore[type-var]
        except TypeError as exc:
            raise ValueError(
                f"{level} level needs values that can be ordered; pass order= for labels"
            ) from exc

    def _fixed_delta(self, c: NDArray[np.intp], k: NDArray[np.intp]) -> FloatArray:
        """delta^2 for metrics that do not depend on the marginals (nominal/interval/ratio)."""
        if self.level == "nominal":
            return np.asarray(c != k, dtype=np.float64)
        a, b = self.numeric[c], self.numeric[k]
        if self.level == "interval":
            return np.asarray((a - b) ** 2, dtype=np.float64)
        total = a + b
        # Ratio: ((a - b) / (a + b))^2; a + b == 0 only when a == b == 0, which is agreement.
        ratio = np.divide(a - b, total, out=np.zeros_like(total), where=total != 0)
        return np.asarray(ratio**2, dtype=np.float64)

    @property
    def n_units(self) -> int:
        return int(self.counts.shape[0])

    def alphas(self, weights: FloatArray) -> FloatArray:
        """Alpha for each row of ``weights`` (resamples x pairable units); NaN = not computable."""
        marginals = weights @ self.counts  # n_c per resample
        n = marginals.sum(axis=1)
        computable = np.count_nonzero(marginals > 0, axis=1) >= 2
        if self.level == "ordinal":
            # delta2_ck = (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, which equals the squared
            # difference of the mid-ranks r_c = (n_1 + ... + n_{c-1}) + n_c / 2.
            ranks = np.cumsum(marginals, axis=1) - marginals / 2.0
            gaps = ranks[:, self.pair_c] - ranks[:, self.pair_k]
            observed = (gaps**2 * self.pair_weight * weights[:, self.pair_unit]).sum(axis=1)
            expected = self._pairwise_spread(marginals, ranks, n)
        else:
            observed = weights @ self.unit_disagreement
            if self.level == "nominal":
                expected = n**2 - (marginals**2).sum(axis=1)
            elif self.level == "interval":
                expected = self._pairwise_spread(marginals, self.numeric[np.newaxis, :], n)
            else:
                expected = ((marginals @ self.delta_matrix) * marginals).sum(axis=1)
        result = np.full(weights.shape[0], np.nan)
        ok = computable & (expected > 0)
        result[ok] = 1.0 - (n[ok] - 1.0) * observed[ok] / expected[ok]
        return result

    @staticmethod
    def _pairwise_spread(marginals: FloatArray, points: FloatArray, n: FloatArray) -> FloatArray:
        """sum_ck n_c n_k (x_c - x_k)^2 as 2 n sum_c n_c (x_c - mean)^2 (centred for accuracy)."""
        safe_n = np.where(n > 0, n, 1.0)
        mean = (marginals * points).sum(axis=1) / safe_n
        centred = points - mean[:, np.newaxis]
        return np.asarray(2.0 * n * (marginals * centred**2).sum(axis=1), dtype=np.float64)


def _optional(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def krippendorff_alpha(
    ratings: Ratings,
    level: str,
    *,
    order: Sequence[Hashable] | None = None,
) -> float | None:
    """Krippendorff's alpha: agreement beyond chance, for any number of raters and gaps.

    The right coefficient for calibration: it handles missing ratings, any number of raters
    and every scale type, and -- unlike percent agreement -- is not inflated when one answer
    dominates.

    :param ratings: one row per rater, one column per unit; ``None``/NaN for missing.
    :param level: ``'nominal'`` (labels, e.g. yes/no/N/A), ``'ordinal'`` (rating scales),
        ``'interval'`` (points, total scores) or ``'ratio'`` (non-negative with a true zero).
    :param order: ordinal level only: the labels from lowest to highest, for labels whose
        natural sort order is wrong (e.g. ``['poor', 'fair', 'good']``).  Without it,
        ordinal values are sorted.
    :returns: alpha, or ``None`` if no unit has two ratings or the pairable values do not vary.
    :raises ValueError: unknown level, ragged rows, non-numeric (or negative at ratio level)
        values at interval/ratio level, or ordinal values that cannot be ordered.
    """
    data = _AlphaData(_units(ratings), level, order)
    if data.n_units == 0:
        return None
    return _optional(float(data.alphas(np.ones((1, data.n_units)))[0]))


def alpha_for_resamples(
    ratings: Ratings,
    level: str,
    resamples: Iterable[Sequence[int]],
    *,
    order: Sequence[Hashable] | None = None,
) -> list[float | None]:
    """Alpha for each resample of units, given as column indices (repeats allowed).

    Each result equals :func:`krippendorff_alpha` on the ratings restricted to those columns,
    but the data are encoded only once.  This is the engine of :func:`bootstrap_alpha_ci`,
    exposed for callers that need the whole bootstrap distribution or their own resamples.
    Columns with fewer than two ratings may be listed; they contribute nothing.
    """
    units = _units(ratings)
    data = _AlphaData(units, level, order)
    position = {column: u for u, column in enumerate(data.columns)}
    rows: list[FloatArray] = []
    for resample in resamples:
        row = np.zeros(data.n_units)
        for column in resample:
            if not 0 <= column < len(units):
                raise ValueError(f"column index {column} is out of range")
            if column in position:
                row[position[column]] += 1.0
        rows.append(row)
    if not rows:
        return []
    if data.n_units == 0:
        return [None] * len(rows)
    return [_optional(float(a)) for a in data.alphas(np.vstack(rows))]


def bootstrap_alpha_ci(
    ratings: Ratings,
    level: str,
    *,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
    order: Sequence[Hashable] | None = None,
    min_computable_share: float = 0.9,
) -> tuple[float, float] | None:
    """Percentile bootstrap confidence interval for alpha, resampling units with replacement.

    Only pairable units (two or more ratings) are resampled: the others carry no information
    about agreement.  Both the observed and the expected disagreement are recomputed for each
    resample.  Resamples in which alpha is not computable (e.g. every drawn unit has the same
    single value) are skipped.

    :param seed: seeds numpy's default generator, so the interval is reproducible.
    :param min_computable_share: if fewer than this share of resamples give an alpha, the
        estimate hinges on a handful of units and no interval is reported (``None``).
    :returns: ``(low, high)``, or ``None`` if alpha itself is not computable or too few
        resamples are.
    """
    _check_n_boot(n_boot)
    _check_confidence(confidence)
    data = _AlphaData(_units(ratings), level, order)
    n_units = data.n_units
    if n_units == 0 or math.isnan(float(data.alphas(np.ones((1, n_units)))[0])):
        return None
    rng = np.random.default_rng(seed)
    draws: list[FloatArray] = []
    for start in range(0, n_boot, _BOOTSTRAP_CHUNK):
        size = min(_BOOTSTRAP_CHUNK, n_boot - start)
        picks = rng.integers(0, n_units, size=(size, n_units))
        # Row b of `weights` counts how often each unit was drawn in resample b.
        flat = (picks + n_units * np.arange(size)[:, np.newaxis]).ravel()
        weights = np.bincount(flat, minlength=size * n_units).reshape(size, n_units)
        draws.append(data.alphas(weights.astype(np.float64)))
    alphas = np.concatenate(draws)
    valid = alphas[~np.isnan(alphas)]
    if valid.size < max(2, math.ceil(min_computable_share * n_boot)):
        return None
    return _percentile_interval(valid, confidence)


def _percentile_interval(samples: FloatArray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail])
    return float(low), float(high)


def interpret_alpha(alpha: float | None) -> str:
    """Krippendorff's reading guide as a label; see :data:`ALPHA_READING_GUIDE`."""
    if alpha is None or math.isnan(alpha):
        return "not computable"
    if alpha >= ALPHA_RELIABLE:
        return "reliable"
    if alpha >= ALPHA_TENTATIVE:
        return "tentative"
    return "unreliable"


# --------------------------------------------------------------------------------------
# Nominal agreement: percent agreement and Gwet's AC1
# --------------------------------------------------------------------------------------


def percent_agreement(ratings: Ratings) -> float | None:
    """Share of agreeing rater pairs among all rater pairs within units.

    Easy to explain but chance-blind: when one answer dominates it is high even if raters
    never agree on the rare answer.  Report it next to alpha, not instead of it.  Pairs are
    pooled over units, so a unit rated by more raters weighs more.

    :returns: the share, or ``None`` if no unit has two ratings.
    """
    pairs = 0
    agreeing = 0
    for unit in _units(ratings):
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
    units = [unit for unit in _units(ratings) if unit]
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


# --------------------------------------------------------------------------------------
# Raters against the benchmark (gold) answers
# --------------------------------------------------------------------------------------


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
        if score is None or gold is None or _is_missing(score) or _is_missing(gold):
            continue
        diffs.append(float(score) - float(gold))
    if not diffs:
        return RaterDeviation(0, None, None, None)
    n = len(diffs)
    return RaterDeviation(
        n=n,
        mean_absolute_deviation=statistics.fmean(abs(d) for d in diffs),
        signed_bias=statistics.fmean(diffs),
        share_within_tolerance=sum(abs(d) <= tolerance + _TOLERANCE_SLACK for d in diffs) / n,
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
    _check_confidence(confidence)
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
    _check_n_boot(n_boot)
    _check_confidence(confidence)
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
    low, high = _percentile_interval(group_means - reference_means, confidence)
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
        if reference is None or _is_missing(reference):
            continue
        gaps = [
            abs(float(value) - float(reference))
            for group, value in by_group.items()
            if group != reference_group and value is not None and not _is_missing(value)
        ]
        if gaps:
            ranking.append((criterion, max(gaps)))
    ranking.sort(key=lambda item: item[1], reverse=True)  # stable: ties keep input order
    return ranking
