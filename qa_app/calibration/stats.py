"""Agreement and accuracy statistics for calibration sessions.

Pure functions (plain Python + numpy, scipy only for the t quantile): no Flask, no database.
Krippendorff's alpha is here; the input checks are in ``rater_data``, nominal agreement and the
benchmark figures in ``agreement``, and this module exports them all.

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
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Final

import numpy as np
from numpy.typing import NDArray

from qa_app.calibration.agreement import (
    GroupDifference,
    MeanCI,
    RaterDeviation,
    criterion_match_rate,
    divergence_ranking,
    group_difference,
    gwet_ac1,
    mean_ci,
    percent_agreement,
    rater_deviation,
)
from qa_app.calibration.rater_data import (
    BOOTSTRAP_CHUNK,
    LEVELS,
    FloatArray,
    Ratings,
    check_confidence,
    check_level,
    check_n_boot,
    percentile_interval,
    units_of,
)

# One module to import the calibration statistics from: alpha here, the rest re-exported.
__all__ = [
    "ALPHA_READING_GUIDE",
    "ALPHA_RELIABLE",
    "ALPHA_TENTATIVE",
    "LEVELS",
    "GroupDifference",
    "MeanCI",
    "RaterDeviation",
    "Ratings",
    "alpha_for_resamples",
    "bootstrap_alpha_ci",
    "criterion_match_rate",
    "divergence_ranking",
    "group_difference",
    "gwet_ac1",
    "interpret_alpha",
    "krippendorff_alpha",
    "mean_ci",
    "percent_agreement",
    "rater_deviation",
]

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
        check_level(level)
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
    data = _AlphaData(units_of(ratings), level, order)
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
    units = units_of(ratings)
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
    check_n_boot(n_boot)
    check_confidence(confidence)
    data = _AlphaData(units_of(ratings), level, order)
    n_units = data.n_units
    if n_units == 0 or math.isnan(float(data.alphas(np.ones((1, n_units)))[0])):
        return None
    rng = np.random.default_rng(seed)
    draws: list[FloatArray] = []
    for start in range(0, n_boot, BOOTSTRAP_CHUNK):
        size = min(BOOTSTRAP_CHUNK, n_boot - start)
        picks = rng.integers(0, n_units, size=(size, n_units))
        # Row b of `weights` counts how often each unit was drawn in resample b.
        flat = (picks + n_units * np.arange(size)[:, np.newaxis]).ravel()
        weights = np.bincount(flat, minlength=size * n_units).reshape(size, n_units)
        draws.append(data.alphas(weights.astype(np.float64)))
    alphas = np.concatenate(draws)
    valid = alphas[~np.isnan(alphas)]
    if valid.size < max(2, math.ceil(min_computable_share * n_boot)):
        return None
    return percentile_interval(valid, confidence)


def interpret_alpha(alpha: float | None) -> str:
    """Krippendorff's reading guide as a label; see :data:`ALPHA_READING_GUIDE`."""
    if alpha is None or math.isnan(alpha):
        return "not computable"
    if alpha >= ALPHA_RELIABLE:
        return "reliable"
    if alpha >= ALPHA_TENTATIVE:
        return "tentative"
    return "unreliable"
