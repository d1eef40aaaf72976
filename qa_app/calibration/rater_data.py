"""Rater data as the calibration statistics take it: one row per rater, one column per unit,
None (or NaN) for a missing rating; the checks of their arguments. Pure: no Flask, no database."""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from typing import Final, TypeVar

import numpy as np
from numpy.typing import NDArray

LEVELS: Final[tuple[str, ...]] = ("nominal", "ordinal", "interval", "ratio")

Ratings = Sequence[Sequence[Hashable | None]]
"""One row per rater, one column per unit; ``None`` (or NaN) = missing."""

#: Bootstrap resamples are drawn in blocks of this many to bound memory use.
BOOTSTRAP_CHUNK: Final = 256
#: Slack for "within tolerance" so that e.g. 85.1 vs 80.1 counts as exactly 5 points apart.
TOLERANCE_SLACK: Final = 1e-9

K = TypeVar("K", bound=Hashable)
G = TypeVar("G", bound=Hashable)

FloatArray = NDArray[np.float64]


def is_missing(value: object) -> bool:
    """None and float NaN are missing ratings (NaN never equals itself, so it cannot count)."""
    if value is None:
        return True
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return math.isnan(float(value))
    return False


def units_of(ratings: Ratings) -> list[list[Hashable]]:
    """Transpose rater rows into per-unit lists of the ratings present."""
    rows = [list(row) for row in ratings]
    if not rows:
        return []
    width = len(rows[0])
    if any(len(row) != width for row in rows):
        raise ValueError("ratings must be rectangular: every rater row needs one cell per unit")
    return [[row[j] for row in rows if not is_missing(row[j])] for j in range(width)]


def check_level(level: str) -> None:
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")


def check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1")


def check_n_boot(n_boot: int) -> None:
    if n_boot < 1:
        raise ValueError("n_boot must be at least 1")


def percentile_interval(samples: FloatArray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(samples, [tail, 1.0 - tail])
    return float(low), float(high)
