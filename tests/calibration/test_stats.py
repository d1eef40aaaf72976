"""Tests for the calibration statistics: published references and an independent oracle."""

import math
import random
from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from fractions import Fraction

import numpy as np
import pytest

from qa_app.calibration.stats import (
    ALPHA_READING_GUIDE,
    LEVELS,
    GroupDifference,
    MeanCI,
    RaterDeviation,
    alpha_for_resamples,
    bootstrap_alpha_ci,
    criterion_match_rate,
    divergence_ranking,
    group_difference,
    gwet_ac1,
    interpret_alpha,
    krippendorff_alpha,
    mean_ci,
    percent_agreement,
    rater_deviation,
)

M = None  # missing
# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section E:
# 4 observers x 12 units with missing values.
KRIPPENDORFF_2011: list[list[int | None]] = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, M, M, M],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, M, 3],
    [M, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, M],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, M],
]
PUBLISHED_ALPHA = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}

# 23 conversations, 2 raters: both say "yes" on 22, one yes/no split.
DOMINANT_ANSWER: list[list[str]] = [["yes"] * 23, ["yes"] * 22 + ["no"]]


# --------------------------------------------------------------------------------------
# Independent oracle: the pairwise-disagreement definition of alpha, no coincidence matrix.
# --------------------------------------------------------------------------------------


def _oracle_delta(level: str, pooled: list[Hashable]) -> Callable[[Hashable, Hashable], float]:
    if level == "nominal":
        return lambda a, b: 0.0 if a == b else 1.0
    if level == "interval":
        return lambda a, b: (float(a) - float(b)) ** 2  # type: ignore[arg-type]
    if level == "ratio":

        def ratio(a: Hashable, b: Hashable) -> float:
            x, y = float(a), float(b)  # type: ignore[arg-type]
            return 0.0 if x == y else ((x - y) / (x + y)) ** 2

        return ratio
    # Ordinal, straight from the textbook definition: for c <= k,
    # delta = (sum of frequencies of the values from c to k - (n_c + n_k) / 2) ** 2.
    freq = Counter(pooled)
    scale = sorted(freq)  # type: ignore[type-var]

    def ordinal(a: Hashable, b: Hashable) -> float:
        lo, hi = sorted((scale.index(a), scale.index(b)))
        between = sum(freq[scale[g]] for g in range(lo, hi + 1))
        return (between - (freq[scale[lo]] + freq[scale[hi]]) / 2) ** 2

    return ordinal


def oracle_alpha(ratings: Sequence[Sequence[Hashable | None]], level: str) -> float | None:
    """alpha = 1 - D_o / D_e with both disagreements summed over explicit pairs of values."""
    width = len(ratings[0]) if ratings else 0
    units = [[row[j] for row in ratings if row[j] is not None] for j in range(width)]
    units = [unit for unit in units if len(unit) >= 2]
    pooled = [value for unit in units for value in unit]
    if len(set(pooled)) < 2:
        return None
    delta = _oracle_delta(level, pooled)
    n = len(pooled)
    observed = 0.0
    for unit in units:
        within = sum(delta(a, b) for i, a in enumerate(unit) for j, b in enumerate(unit) if i != j)
        observed += within / (len(unit) - 1)
    observed /= n
    expected = sum(
        delta(a, b) for i, a in enumerate(pooled) for j, b in enumerate(pooled) if i != j
    ) / (n * (n - 1))
    return 1.0 - observed / expected


def random_ratings(
    rng: random.Random, pool: Sequence[Hashable], missing: float = 0.3
) -> list[list[Hashable | None]]:
    raters, units = rng.randint(2, 6), rng.randint(1, 14)
    return [
        [None if rng.random() < missing else rng.choice(pool) for _ in range(units)]
        for _ in range(raters)
    ]


POOLS: dict[str, Sequence[Hashable]] = {
    "nominal-int": [1, 2, 3, 4],
    "nominal-str": ["yes", "no", "n/a"],
    "ordinal": [1, 2, 3, 4, 5],
    "interval": [0, 1, 2.5, 3, 7, 10, 100],
    "ratio": [0, 1, 2, 3, 5, 8.5],
}


# --------------------------------------------------------------------------------------
# Krippendorff's alpha
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("level", "expected"), PUBLISHED_ALPHA.items())
def test_alpha_reproduces_krippendorff_2011(level: str, expected: float) -> None:
    alpha = krippendorff_alpha(KRIPPENDORFF_2011, level)
    assert alpha is not None
    assert round(alpha, 3) == expected


@pytest.mark.parametrize("level", LEVELS)
def test_oracle_itself_reproduces_krippendorff_2011(level: str) -> None:
    alpha = oracle_alpha(KRIPPENDORFF_2011, level)
    assert alpha is not None
    assert round(alpha, 3) == PUBLISHED_ALPHA[level]


def test_alpha_accepts_labels_and_nan_for_missing() -> None:
    labels = {1: "a", 2: "b", 3: "c", 4: "d", 5: "e"}
    as_labels = [[None if v is None else labels[v] for v in row] for row in KRIPPENDORFF_2011]
    as_array = np.array([[math.nan if v is None else v for v in row] for row in KRIPPENDORFF_2011])
    assert krippendorff_alpha(as_labels, "nominal") == pytest.approx(0.743421052631579)
    assert krippendorff_alpha(as_array, "interval") == pytest.approx(0.849107142857143)  # type: ignore[arg-type]


def test_ordinal_order_for_labels_matches_numeric_codes() -> None:
    scale = ["poor", "fair", "good", "great", "superb"]  # alphabetical order would be wrong
    as_labels = [[None if v is None else scale[v - 1] for v in row] for row in KRIPPENDORFF_2011]
    alpha = krippendorff_alpha(as_labels, "ordinal", order=scale)
    assert alpha == pytest.approx(krippendorff_alpha(KRIPPENDORFF_2011, "ordinal"), abs=1e-12)
    assert krippendorff_alpha(as_labels, "ordinal") != pytest.approx(alpha)


@pytest.mark.parametrize(("pool_name", "level"), [(p, p.split("-")[0]) for p in POOLS])
def test_alpha_agrees_with_independent_oracle_on_random_data(pool_name: str, level: str) -> None:
    rng = random.Random(f"alpha-{pool_name}")
    compared = 0
    for _trial in range(300):
        ratings = random_ratings(rng, POOLS[pool_name])
        expected = oracle_alpha(ratings, level)
        actual = krippendorff_alpha(ratings, level)
        if expected is None:
            assert actual is None
        else:
            assert actual is not None
            assert actual == pytest.approx(expected, abs=1e-9)
            compared += 1
    assert compared > 200  # the check must not pass vacuously


@pytest.mark.parametrize("level", LEVELS)
def test_alpha_for_resamples_equals_alpha_of_resampled_columns(level: str) -> None:
    rng = random.Random(f"resample-{level}")
    pool = POOLS["nominal-str"] if level == "nominal" else POOLS[level]
    compared = 0
    for _trial in range(60):
        ratings = random_ratings(rng, pool)
        width = len(ratings[0])
        resamples = [[rng.randrange(width) for _ in range(width)] for _ in range(5)]
        got = alpha_for_resamples(ratings, level, resamples)
        for resample, actual in zip(resamples, got, strict=True):
            expected = oracle_alpha([[row[j] for j in resample] for row in ratings], level)
            if expected is None:
                assert actual is None
            else:
                assert actual == pytest.approx(expected, abs=1e-9)
                compared += 1
    assert compared > 100


def test_alpha_for_resamples_rejects_bad_column() -> None:
    with pytest.raises(ValueError, match="out of range"):
        alpha_for_resamples(KRIPPENDORFF_2011, "nominal", [[0, 12]])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize(
    "ratings",
    [
        pytest.param([[3, 3, 3], [3, 3, None]], id="all-identical"),
        pytest.param([[1, None, None], [None, 2, None], [None, None, 3]], id="no-pairable-unit"),
        pytest.param([[2, 5], [2, None]], id="variation-only-in-unpairable-unit"),
        pytest.param([], id="no-raters"),
        pytest.param([[], []], id="no-units"),
    ],
)
def test_alpha_not_computable_is_none(ratings: list[list[int | None]], level: str) -> None:
    assert krippendorff_alpha(ratings, level) is None
    assert bootstrap_alpha_ci(ratings, level, n_boot=20) is None


def test_perfect_agreement_with_variation_is_one() -> None:
    ratings: list[list[int | None]] = [[1, 2, 3, 2], [1, 2, 3, 2], [1, None, 3, 2]]
    for level in LEVELS:
        assert krippendorff_alpha(ratings, level) == pytest.approx(1.0)


def test_dominant_answer_paradox() -> None:
    # Raters agree on 22 of 23 conversations, yet never on the one that mattered.
    assert krippendorff_alpha(DOMINANT_ANSWER, "nominal") == pytest.approx(0.0, abs=1e-12)
    assert percent_agreement(DOMINANT_ANSWER) == pytest.approx(22 / 23)
    assert round(22 / 23, 3) == 0.957
    ac1 = gwet_ac1(DOMINANT_ANSWER)
    assert ac1 is not None
    assert ac1 > 0.9


@pytest.mark.parametrize(
    ("ratings", "level", "message"),
    [
        pytest.param([[1, 2]], "cardinal", "unknown level", id="unknown-level"),
        pytest.param([[1, 2], [1]], "nominal", "rectangular", id="ragged"),
        pytest.param([["a", "b"], ["a", "a"]], "interval", "needs numbers", id="str-interval"),
        pytest.param([["a", "b"], ["a", "a"]], "ratio", "needs numbers", id="str-ratio"),
        pytest.param([[1, -2], [1, 3]], "ratio", "non-negative", id="negative-ratio"),
        pytest.param([[1, math.inf], [1, 3]], "interval", "finite", id="infinite"),
        pytest.param([[1, "b"], [1, 2]], "ordinal", "ordered", id="unsortable-ordinal"),
        # Even a value in an unpairable unit must be valid.
        pytest.param([[1, "x"], [1, None]], "interval", "needs numbers", id="unpaired-invalid"),
    ],
)
def test_alpha_rejects_invalid_input(
    ratings: list[list[Hashable | None]], level: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        krippendorff_alpha(ratings, level)


def test_order_is_validated() -> None:
    ratings = [["low", "high"], ["low", "mid"]]
    with pytest.raises(ValueError, match="missing from order"):
        krippendorff_alpha(ratings, "ordinal", order=["low", "high"])
    with pytest.raises(ValueError, match="more than once"):
        krippendorff_alpha(ratings, "ordinal", order=["low", "mid", "high", "low"])
    with pytest.raises(ValueError, match="only meaningful"):
        krippendorff_alpha(ratings, "nominal", order=["low", "mid", "high"])


@pytest.mark.parametrize(
    ("alpha", "label"),
    [
        (None, "not computable"),
        (1.0, "reliable"),
        (0.800, "reliable"),
        (0.7999, "tentative"),
        (0.667, "tentative"),
        (0.6669, "unreliable"),
        (0.0, "unreliable"),
        (-0.3, "unreliable"),
    ],
)
def test_interpret_alpha(alpha: float | None, label: str) -> None:
    assert interpret_alpha(alpha) == label
    assert label in ALPHA_READING_GUIDE


# --------------------------------------------------------------------------------------
# Bootstrap interval for alpha
# --------------------------------------------------------------------------------------


def _realistic_ratings(raters: int = 10, units: int = 50) -> list[list[float | None]]:
    rng = np.random.default_rng(7)
    truth = rng.integers(1, 6, units)
    noisy = np.clip(truth + rng.integers(-1, 2, (raters, units)), 1, 5)
    missing = rng.random((raters, units)) < 0.2
    return [
        [None if gap else float(v) for v, gap in zip(row, gaps, strict=True)]
        for row, gaps in zip(noisy, missing, strict=True)
    ]


@pytest.mark.parametrize("level", LEVELS)
def test_bootstrap_is_reproducible_and_brackets_the_estimate(level: str) -> None:
    ratings = _realistic_ratings()  # also the 10 raters x 50 units x 1000 resamples case
    alpha = krippendorff_alpha(ratings, level)
    first = bootstrap_alpha_ci(ratings, level, n_boot=1000, seed=3)
    assert alpha is not None
    assert first is not None
    assert first == bootstrap_alpha_ci(ratings, level, n_boot=1000, seed=3)
    assert first != bootstrap_alpha_ci(ratings, level, n_boot=1000, seed=4)
    low, high = first
    assert low < alpha < high
    assert high - low < 0.3
    narrower = bootstrap_alpha_ci(ratings, level, n_boot=1000, seed=3, confidence=0.5)
    assert narrower is not None
    assert low < narrower[0] < narrower[1] < high


def test_bootstrap_of_within_unit_agreement_is_degenerate_at_one() -> None:
    ratings = [[1, 2, 3, 4, 5, 1, 2, 3], [1, 2, 3, 4, 5, 1, 2, 3]]
    assert bootstrap_alpha_ci(ratings, "interval", n_boot=200) == (1.0, 1.0)


@pytest.mark.parametrize("position", [0, 5])
def test_bootstrap_draws_every_unit(position: int) -> None:
    # All units but one show perfect agreement; unless that unit is drawn, alpha is 1.
    first: list[int | None] = [1, 2, 3, 4, 5, 6]
    second: list[int | None] = [1, 2, 3, 4, 5, 6]
    second[position] = 6 if position == 0 else 1
    unpairable: list[int | None] = [None] * 6  # a third rater who rated nothing
    ratings = [first, second, unpairable]
    alpha = krippendorff_alpha(ratings, "interval")
    interval = bootstrap_alpha_ci(ratings, "interval", n_boot=500, confidence=0.9)
    assert alpha is not None
    assert interval is not None
    assert interval[0] < alpha < 1.0


def test_bootstrap_needs_enough_computable_resamples() -> None:
    # The only disagreement sits in one unit; about a third of resamples miss it entirely
    # and contain only "yes", where alpha is not computable.
    assert bootstrap_alpha_ci(DOMINANT_ANSWER, "nominal") is None
    relaxed = bootstrap_alpha_ci(DOMINANT_ANSWER, "nominal", min_computable_share=0.5)
    assert relaxed is not None
    assert relaxed[0] <= 0.0 <= relaxed[1]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"n_boot": 0}, "n_boot"), ({"confidence": 1.0}, "confidence"), ({"confidence": 0}, "conf")],
)
def test_bootstrap_validates_arguments(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        bootstrap_alpha_ci(KRIPPENDORFF_2011, "nominal", **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Percent agreement and Gwet's AC1
# --------------------------------------------------------------------------------------

# Three raters, two categories, gaps.  Units: (a,a,a) (a,b,-) (b,b,b) (a,-,-) (a,a,b).
SMALL_NOMINAL: list[list[str | None]] = [
    ["a", "a", "b", "a", "a"],
    ["a", "b", "b", None, "a"],
    ["a", None, "b", None, "b"],
]


def test_percent_agreement_pools_pairs_over_units() -> None:
    # Pairs: 3 + 1 + 3 + 0 + 3 = 10; agreeing: 3 + 0 + 3 + 0 + 1 = 7.
    assert percent_agreement(SMALL_NOMINAL) == pytest.approx(0.7)


@pytest.mark.parametrize(
    "ratings",
    [[], [["a", None], [None, "b"]], [["a", "b"]]],
)
def test_percent_agreement_without_pairs_is_none(ratings: list[list[str | None]]) -> None:
    assert percent_agreement(ratings) is None


def test_gwet_ac1_hand_computed_with_missing_ratings() -> None:
    # p_a over the 4 units rated twice or more: (1 + 0 + 1 + 1/3) / 4.
    p_a = (1 + Fraction(0) + 1 + Fraction(1, 3)) / 4
    # pi_a over all 5 rated units: (1 + 1/2 + 0 + 1 + 2/3) / 5.
    pi_a = (1 + Fraction(1, 2) + 0 + 1 + Fraction(2, 3)) / 5
    p_e = 2 * pi_a * (1 - pi_a) / (2 - 1)
    expected = (p_a - p_e) / (1 - p_e)
    assert gwet_ac1(SMALL_NOMINAL) == pytest.approx(float(expected), abs=1e-12)
    assert float(expected) == pytest.approx(0.2219917, abs=1e-7)


@pytest.mark.parametrize(
    ("yes_yes", "yes_no", "no_yes", "no_no"),
    [(40, 5, 10, 45), (22, 1, 0, 0), (10, 10, 10, 10), (0, 7, 3, 0), (118, 5, 2, 0)],
)
def test_gwet_ac1_two_raters_matches_gwet_2008_formula(
    yes_yes: int, yes_no: int, no_yes: int, no_no: int
) -> None:
    total = yes_yes + yes_no + no_yes + no_no
    first = ["y"] * (yes_yes + yes_no) + ["n"] * (no_yes + no_no)
    second = ["y"] * yes_yes + ["n"] * yes_no + ["y"] * no_yes + ["n"] * no_no
    # Gwet (2008): pi = (A1 + B1) / (2N), p_e = 2 pi (1 - pi).
    p_a = (yes_yes + no_no) / total
    pi = ((yes_yes + yes_no) + (yes_yes + no_yes)) / (2 * total)
    p_e = 2 * pi * (1 - pi)
    assert gwet_ac1([first, second], categories=["y", "n"]) == pytest.approx(
        (p_a - p_e) / (1 - p_e), abs=1e-12
    )


def test_gwet_ac1_categories() -> None:
    unanimous = [["yes", "yes", "yes"], ["yes", "yes", "yes"]]
    assert gwet_ac1(unanimous) is None  # a single observed category: q would be 1
    assert gwet_ac1(unanimous, categories=["yes", "no"]) == pytest.approx(1.0)
    # An unused third option changes q and therefore the chance agreement.
    two = gwet_ac1(SMALL_NOMINAL, categories=["a", "b"])
    three = gwet_ac1(SMALL_NOMINAL, categories=["a", "b", "n/a"])
    assert two is not None
    assert three is not None
    assert three > two
    with pytest.raises(ValueError, match="outside categories"):
        gwet_ac1(SMALL_NOMINAL, categories=["a"])


def test_gwet_ac1_without_pairs_is_none() -> None:
    assert gwet_ac1([["a", None], [None, "b"]]) is None
    assert gwet_ac1([]) is None


# --------------------------------------------------------------------------------------
# Raters against the benchmark
# --------------------------------------------------------------------------------------


def test_rater_deviation_hand_example() -> None:
    scores = {"c1": 90.0, "c2": 70.0, "c3": 85.1, "c4": 50.0, "extra": 10.0, "skipped": None}
    gold = {"c1": 80.0, "c2": 75.0, "c3": 80.1, "c4": 50.0, "skipped": 60.0, "gold-only": 1.0}
    result = rater_deviation(scores, gold)
    # Differences over c1..c4: +10, -5, +5 (85.1 - 80.1), 0.
    assert result.n == 4
    assert result.mean_absolute_deviation == pytest.approx(20 / 4)
    assert result.signed_bias == pytest.approx(10 / 4)  # positive: more lenient than gold
    assert result.share_within_tolerance == pytest.approx(3 / 4)  # tolerance is inclusive
    assert rater_deviation(scores, gold, tolerance=4.9).share_within_tolerance == 0.25


def test_rater_deviation_harsh_rater_has_negative_bias() -> None:
    result = rater_deviation({1: 60.0, 2: 70.0}, {1: 80.0, 2: 80.0}, tolerance=10)
    assert result == RaterDeviation(2, 15.0, -15.0, 0.5)


def test_rater_deviation_without_shared_units() -> None:
    assert rater_deviation({"a": 50.0}, {"b": 50.0}) == RaterDeviation(0, None, None, None)
    with pytest.raises(ValueError, match="tolerance"):
        rater_deviation({}, {}, tolerance=-1)


def test_criterion_match_rate_treats_na_as_a_label() -> None:
    answers = {("c1", "greeting"): "yes", ("c1", "refund"): "N/A", ("c2", "greeting"): "no"}
    gold = {("c1", "greeting"): "yes", ("c1", "refund"): "no", ("c2", "refund"): "N/A"}
    assert criterion_match_rate(answers, gold) == pytest.approx(1 / 2)
    assert criterion_match_rate({"k": "N/A"}, {"k": "N/A"}) == 1.0
    assert criterion_match_rate({"k": "yes"}, {"other": "yes"}) is None


def test_mean_ci_matches_t_table() -> None:
    # 1..5: mean 3, s = sqrt(2.5), t(0.975, df=4) = 2.776445 (any t table).
    result = mean_ci([1, 2, 3, 4, 5])
    half = 2.776445105 * math.sqrt(2.5) / math.sqrt(5)
    assert result.n == 5
    assert result.mean == pytest.approx(3.0)
    assert result.ci_low == pytest.approx(3.0 - half, abs=1e-8)
    assert result.ci_high == pytest.approx(3.0 + half, abs=1e-8)
    # t(0.95, df=4) = 2.131847 for a 90% interval.
    ninety = mean_ci([1, 2, 3, 4, 5], confidence=0.90)
    assert ninety.ci_high == pytest.approx(3.0 + 2.131846786 * math.sqrt(0.5), abs=1e-8)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([], MeanCI(0, None, None, None)), ([42.0], MeanCI(1, 42.0, None, None))],
)
def test_mean_ci_small_samples(values: list[float], expected: MeanCI) -> None:
    assert mean_ci(values) == expected


def test_group_difference_sign_and_interval() -> None:
    partner = [70.0, 72.0, 68.0, 75.0, 71.0, 69.0]
    in_house = [80.0, 78.0, 82.0, 79.0, 81.0]
    result = group_difference(partner, in_house)
    assert result.difference == pytest.approx(sum(partner) / 6 - sum(in_house) / 5)
    assert result.n_group == 6
    assert result.n_reference == 5
    assert result.ci_low is not None
    assert result.ci_high is not None
    assert result.difference is not None
    assert result.ci_low < result.difference < result.ci_high < 0  # clearly harsher
    assert result == group_difference(partner, in_house)  # seeded
    assert result != group_difference(partner, in_house, seed=1)
    # Each group resampled on its own: constant groups give a degenerate interval.
    constant = group_difference([5.0, 5.0, 5.0], [2.0, 2.0])
    assert constant == GroupDifference(3.0, 3.0, 3.0, 3, 2)


@pytest.mark.parametrize(
    ("group", "reference", "expected"),
    [
        ([], [1.0, 2.0], GroupDifference(None, None, None, 0, 2)),
        ([1.0, 2.0], [], GroupDifference(None, None, None, 2, 0)),
        ([4.0], [1.0, 2.0], GroupDifference(2.5, None, None, 1, 2)),
        ([1.0, 2.0], [4.0], GroupDifference(-2.5, None, None, 2, 1)),
    ],
)
def test_group_difference_small_groups(
    group: list[float], reference: list[float], expected: GroupDifference
) -> None:
    assert group_difference(group, reference) == expected


def test_divergence_ranking_orders_by_largest_gap_to_reference() -> None:
    per_criterion: dict[str, dict[str, float | None]] = {
        "greeting": {"in-house": 0.875, "partner-a": 0.75, "partner-b": 1.0},
        "refund policy": {"in-house": 0.75, "partner-a": 0.25, "partner-b": 0.625},
        "empathy": {"in-house": 0.5, "partner-a": 0.75, "partner-b": None},
        "tone": {"in-house": 0.5, "partner-a": 0.375},  # ties with greeting: input order kept
        "no reference": {"partner-a": 0.10, "partner-b": 0.90},
        "reference only": {"in-house": 0.60, "partner-a": None},
    }
    ranking = divergence_ranking(per_criterion, "in-house")
    assert ranking == [
        ("refund policy", 0.5),
        ("empathy", 0.25),
        ("greeting", 0.125),
        ("tone", 0.125),
    ]
    tone_first = {"tone": per_criterion["tone"], "greeting": per_criterion["greeting"]}
    assert [name for name, _gap in divergence_ranking(tone_first, "in-house")] == [
        "tone",
        "greeting",
    ]
