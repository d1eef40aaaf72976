"""The scoring rule: worked examples and properties that must hold for any scorecard."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from qa_app.scorecards.scoring import (
    NA,
    AnswerError,
    CriterionKind,
    CriterionRule,
    Critical,
    answer_fraction,
    score_review,
)

YES_NO = CriterionKind.YES_NO
SCALE = CriterionKind.SCALE
POINTS = CriterionKind.POINTS

DEFAULT_CARD = [
    CriterionRule("accuracy", "Resolution", YES_NO, weight=3, critical=Critical.REVIEW),
    CriterionRule("resolved", "Resolution", YES_NO, weight=2, allow_na=True),
    CriterionRule("clarity", "Communication", SCALE, weight=2, scale_max=5),
    CriterionRule("tone", "Communication", SCALE, weight=1, scale_max=5, allow_na=True),
    CriterionRule("empathy", "Empathy", POINTS, weight=1, max_points=4),
    CriterionRule("verified", "Compliance", YES_NO, weight=2, critical=Critical.SECTION),
    CriterionRule("disclosure", "Compliance", YES_NO, weight=1),
]


def perfect() -> dict[str, Any]:
    return {
        "accuracy": "yes",
        "resolved": "yes",
        "clarity": 5,
        "tone": 5,
        "empathy": 4,
        "verified": "yes",
        "disclosure": "yes",
    }


def test_perfect_answers_score_100() -> None:
    result = score_review(DEFAULT_CARD, perfect())
    assert result.score == 100.0
    assert not result.auto_failed
    assert result.section_scores == {
        "Resolution": 100.0,
        "Communication": 100.0,
        "Empathy": 100.0,
        "Compliance": 100.0,
    }


def test_weighted_example_by_hand() -> None:
    answers = perfect() | {"clarity": 4, "empathy": 2, "disclosure": "no"}
    # earned: accuracy 3 + resolved 2 + clarity 2*0.75 + tone 1 + empathy 1*0.5 + verified 2 + 0
    # possible: 3 + 2 + 2 + 1 + 1 + 2 + 1 = 12
    result = score_review(DEFAULT_CARD, answers)
    assert result.earned == pytest.approx(10.0)
    assert result.possible == pytest.approx(12.0)
    assert result.score == 83.33
    assert result.section_scores["Communication"] == 83.33
    assert result.section_scores["Compliance"] == 66.67


def test_na_is_left_out_of_the_denominator() -> None:
    answers = perfect() | {"resolved": NA, "tone": NA, "clarity": 1}
    # possible: 3 + 2 + 1 + 2 + 1 = 9; earned 3 + 0 + 1 + 2 + 1 = 7
    result = score_review(DEFAULT_CARD, answers)
    assert result.score == 77.78
    assert result.possible == pytest.approx(9.0)


def test_failed_critical_criterion_auto_fails_the_review() -> None:
    result = score_review(DEFAULT_CARD, perfect() | {"accuracy": "no"})
    assert result.score == 0.0
    assert result.auto_failed


def test_failed_section_critical_zeroes_only_its_section() -> None:
    result = score_review(DEFAULT_CARD, perfect() | {"verified": "no"})
    assert result.failed_sections == ("Compliance",)
    assert result.section_scores["Compliance"] == 0.0
    # possible 13 (all answered), earned 13 - verified 2 - disclosure 1 = 10
    assert result.score == 75.0
    assert not result.auto_failed


def test_all_na_has_no_score() -> None:
    rules = [
        CriterionRule("a", "S", YES_NO, allow_na=True),
        CriterionRule("b", "S", SCALE, allow_na=True),
    ]
    result = score_review(rules, {"a": NA, "b": NA})
    assert result.score is None
    assert result.section_scores == {"S": None}


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"a": "yes"}, "b: not answered"),
        ({"a": "maybe", "b": 3}, "a: answer yes or no, got 'maybe'"),
        ({"a": "yes", "b": 6}, "b: rate from 1 to 5, got 6"),
        ({"a": "yes", "b": NA}, "b: N/A is not allowed"),
        ({"a": "yes", "b": "3"}, "b: answer a whole number"),
        ({"a": "yes", "b": True}, "b: answer a whole number"),
        ({"a": "yes", "b": 3, "c": "yes"}, "answers for unknown criteria: c"),
    ],
)
def test_invalid_answers_are_refused(answers: dict[str, Any], message: str) -> None:
    rules = [CriterionRule("a", "S", YES_NO), CriterionRule("b", "S", SCALE)]
    with pytest.raises(AnswerError, match=message):
        score_review(rules, answers)


@pytest.mark.parametrize(
    ("rule", "answer", "fraction"),
    [
        (CriterionRule("s", "S", SCALE, scale_max=3), 2, 0.5),
        (CriterionRule("s", "S", SCALE, scale_max=4), 1, 0.0),
        (CriterionRule("p", "S", POINTS, max_points=10), 7, 0.7),
        (CriterionRule("p", "S", POINTS, max_points=10), 0, 0.0),
    ],
)
def test_answer_fractions(rule: CriterionRule, answer: int, fraction: float) -> None:
    assert answer_fraction(rule, answer) == pytest.approx(fraction)


def test_rules_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 2 points"):
        CriterionRule("s", "S", SCALE, scale_max=1)
    with pytest.raises(ValueError, match="negative"):
        CriterionRule("s", "S", YES_NO, weight=-1)


# --- properties -------------------------------------------------------------------------------

weights = st.floats(min_value=0.1, max_value=10, allow_nan=False, allow_infinity=False)


@st.composite
def rules_and_answers(draw: Any, *, critical: bool = True) -> tuple[list[CriterionRule], dict]:
    count = draw(st.integers(min_value=1, max_value=8))
    rules: list[CriterionRule] = []
    answers: dict[str, Any] = {}
    for index in range(count):
        kind = draw(st.sampled_from(list(CriterionKind)))
        rule = CriterionRule(
            key=f"c{index}",
            section=draw(st.sampled_from(["A", "B", "C"])),
            kind=kind,
            weight=draw(weights),
            allow_na=draw(st.booleans()),
            scale_max=draw(st.integers(min_value=2, max_value=10)),
            max_points=draw(st.integers(min_value=1, max_value=10)),
            critical=draw(st.sampled_from(list(Critical))) if critical else Critical.NO,
        )
        rules.append(rule)
        answers[rule.key] = draw(valid_answer(rule))
    return rules, answers


def valid_answer(rule: CriterionRule) -> st.SearchStrategy[Any]:
    if rule.kind == CriterionKind.YES_NO:
        options: st.SearchStrategy[Any] = st.sampled_from(["yes", "no"])
    elif rule.kind == CriterionKind.SCALE:
        options = st.integers(min_value=1, max_value=rule.scale_max)
    else:
        options = st.integers(min_value=0, max_value=rule.max_points)
    return st.one_of(options, st.just(NA)) if rule.allow_na else options


def best(rule: CriterionRule) -> Any:
    return {YES_NO: "yes", SCALE: rule.scale_max, POINTS: rule.max_points}[rule.kind]


def worst(rule: CriterionRule) -> Any:
    return {YES_NO: "no", SCALE: 1, POINTS: 0}[rule.kind]


@given(rules_and_answers())
def test_score_is_between_0_and_100_or_none(case: tuple[list[CriterionRule], dict]) -> None:
    rules, answers = case
    result = score_review(rules, answers)
    if all(answer == NA for answer in answers.values()):
        assert result.score is None
    else:
        assert result.score is not None
        assert 0.0 <= result.score <= 100.0


@given(rules_and_answers())
def test_best_answers_score_100_and_worst_score_0(case: tuple[list[CriterionRule], dict]) -> None:
    rules, _ = case
    assert score_review(rules, {rule.key: best(rule) for rule in rules}).score == 100.0
    assert score_review(rules, {rule.key: worst(rule) for rule in rules}).score == 0.0


@given(rules_and_answers(), st.integers(min_value=0, max_value=7))
def test_marking_a_criterion_na_never_matters_to_the_others(
    case: tuple[list[CriterionRule], dict], pick: int
) -> None:
    """Adding an N/A criterion to a scorecard changes nothing."""
    rules, answers = case
    extra = CriterionRule("extra", "A", YES_NO, weight=5, allow_na=True, critical=Critical.REVIEW)
    assert score_review([*rules, extra], answers | {"extra": NA}).score == (
        score_review(rules, answers).score
    )


@given(rules_and_answers(), st.floats(min_value=0.1, max_value=100))
def test_scaling_every_weight_leaves_the_score_unchanged(
    case: tuple[list[CriterionRule], dict], factor: float
) -> None:
    rules, answers = case
    scaled = [CriterionRule(**{**rule.__dict__, "weight": rule.weight * factor}) for rule in rules]
    before, after = score_review(rules, answers).score, score_review(scaled, answers).score
    if before is None:
        assert after is None
    else:
        assert after == pytest.approx(before, abs=0.011)


@given(rules_and_answers(), st.data())
def test_a_better_answer_never_lowers_the_score(
    case: tuple[list[CriterionRule], dict], data: st.DataObject
) -> None:
    rules, answers = case
    rule = data.draw(st.sampled_from(rules))
    assume(answers[rule.key] != NA)
    improved = answers | {rule.key: best(rule)}
    before, after = score_review(rules, answers).score, score_review(rules, improved).score
    assert before is not None
    assert after is not None
    assert after >= before


@given(rules_and_answers())
def test_a_failed_review_critical_always_gives_0(case: tuple[list[CriterionRule], dict]) -> None:
    rules, answers = case
    extra = CriterionRule("gate", "Z", YES_NO, critical=Critical.REVIEW)
    result = score_review([*rules, extra], answers | {"gate": "no"})
    assert result.score == 0.0
    assert result.auto_failed


@given(rules_and_answers(critical=False))
def test_without_critical_criteria_the_score_is_the_weighted_mean(
    case: tuple[list[CriterionRule], dict],
) -> None:
    rules, answers = case
    pairs = [
        (rule.weight, answer_fraction(rule, answers[rule.key]))
        for rule in rules
        if answers[rule.key] != NA
    ]
    result = score_review(rules, answers)
    if not pairs:
        assert result.score is None
        return
    expected = 100 * sum(w * f for w, f in pairs if f is not None) / sum(w for w, _ in pairs)
    assert result.score == pytest.approx(expected, abs=0.006)
