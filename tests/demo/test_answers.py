"""The demo's review rule: a conversation's properties lower the criteria they concern."""

from __future__ import annotations

import random
from dataclasses import replace
from functools import cache
from statistics import mean

import pytest

from qa_app.demo.answers import Facts, GeneratedReview, generate_review, improved_answer
from qa_app.demo.scorecard import DEFAULT_SECTIONS
from qa_app.scorecards.scoring import NA, CriterionKind, CriterionRule, score_review

RULES = [
    CriterionRule(
        key=spec.key,
        section=section,
        kind=spec.kind,
        weight=spec.weight,
        allow_na=spec.allow_na,
        scale_max=spec.scale_max,
        max_points=spec.max_points,
        critical=spec.critical,
    )
    for section, specs in DEFAULT_SECTIONS
    for spec in specs
]
BY_KEY = {rule.key: rule for rule in RULES}
SEEDS = range(300)
# A good conversation: happy customer, short, nothing failed, a booking with terms.
CLEAN = Facts(
    channel="chat",
    csat=4,
    handle_seconds=600,
    messages=14,
    agent_messages=7,
    tags=frozenset({"hotels"}),
)


def _fraction(key: str, value: str) -> float | None:
    """The share of the criterion's weight an answer earns (None: N/A)."""
    rule = BY_KEY[key]
    if value == NA:
        return None
    if rule.kind == CriterionKind.YES_NO:
        return 1.0 if value == "yes" else 0.0
    return (int(value) - 1) / (rule.scale_max - 1)


@cache
def _reviews(facts: Facts) -> list[GeneratedReview]:
    return [generate_review(facts, RULES, random.Random(seed)) for seed in SEEDS]


def _mean_fraction(facts: Facts, key: str) -> float:
    fractions = [_fraction(key, review.answers[key][0]) for review in _reviews(facts)]
    return mean(fraction for fraction in fractions if fraction is not None)


def _score(facts: Facts) -> float:
    scores = []
    for review in _reviews(facts):
        answers = review.answers
        parsed = {
            key: value if value in {"yes", "no", NA} else int(value)
            for key, (value, _) in answers.items()
        }
        scores.append(score_review(RULES, parsed).score or 0.0)
    return mean(scores)


@pytest.mark.parametrize(
    ("change", "lowered", "untouched"),
    [
        (
            {"tags": frozenset({"hotels", "transaction-failed"})},
            ["resolved_or_escalated", "first_contact_resolution", "acknowledges_situation"],
            ["professionalism", "identity_verified"],
        ),
        (
            {"csat": 1},
            ["acknowledges_situation", "professionalism", "resolved_or_escalated"],
            ["clarity", "first_contact_resolution"],
        ),
        ({"messages": 32}, ["clarity"], ["acknowledges_situation", "professionalism"]),
        ({"handle_seconds": 1400}, ["clarity", "first_contact_resolution"], ["professionalism"]),
        (
            {"tags": frozenset({"hotels", "reopened"})},
            ["first_contact_resolution", "resolved_or_escalated"],
            ["clarity"],
        ),
    ],
    ids=["failed transaction", "low CSAT", "many messages", "long handle time", "reopened"],
)
def test_a_problem_lowers_the_criteria_it_concerns_and_no_others(
    change: dict[str, object], lowered: list[str], untouched: list[str]
) -> None:
    troubled = replace(CLEAN, **change)  # type: ignore[arg-type]
    for key in lowered:
        assert _mean_fraction(troubled, key) < _mean_fraction(CLEAN, key) - 0.1, key
    for key in untouched:
        assert _mean_fraction(troubled, key) == pytest.approx(_mean_fraction(CLEAN, key)), key
    assert _score(troubled) < _score(CLEAN) - 3


def test_problems_add_up_to_a_lower_score() -> None:
    failed = replace(CLEAN, tags=frozenset({"hotels", "transaction-failed"}))
    failed_and_unhappy = replace(failed, csat=1, messages=30)
    assert _score(CLEAN) > _score(failed) > _score(failed_and_unhappy)
    assert _score(CLEAN) > 85
    assert _score(failed_and_unhappy) < 70


def test_an_escalation_leaves_first_contact_resolution_not_applicable() -> None:
    escalated = replace(CLEAN, tags=frozenset({"hotels", "escalated"}))
    for seed in range(50):
        answers = generate_review(escalated, RULES, random.Random(seed)).answers
        assert answers["first_contact_resolution"][0] == NA
    assert _mean_fraction(escalated, "resolved_or_escalated") > 0.8  # escalated properly, mostly


def test_identity_and_disclosures_apply_only_where_the_topic_needs_them() -> None:
    weather = replace(CLEAN, tags=frozenset({"weather"}))
    bank = replace(CLEAN, tags=frozenset({"banks"}))
    for seed in range(50):
        quiet = generate_review(weather, RULES, random.Random(seed)).answers
        assert quiet["identity_verified"][0] == quiet["required_disclosures"][0] == NA
        account = generate_review(bank, RULES, random.Random(seed)).answers
        assert account["identity_verified"][0] in {"yes", "no"}
        assert account["required_disclosures"][0] in {"yes", "no"}


def test_the_same_seed_gives_the_same_review_and_seeds_differ() -> None:
    facts = replace(CLEAN, csat=2, tags=frozenset({"flights", "transaction-failed"}))
    first = generate_review(facts, RULES, random.Random(7))
    assert generate_review(facts, RULES, random.Random(7)) == first
    others = {
        tuple(generate_review(facts, RULES, random.Random(seed)).answers.items())
        for seed in range(30)
    }
    assert len(others) > 10


def test_every_low_answer_says_why_and_comments_vary() -> None:
    facts = replace(CLEAN, csat=1, messages=30, tags=frozenset({"flights", "transaction-failed"}))
    comments: set[str] = set()
    overall: set[str] = set()
    for review in _reviews(facts):
        for key, (value, comment) in review.answers.items():
            rule = BY_KEY[key]
            # Below a solid answer: a "no", or two steps or more under the top of a scale.
            low = value == "no" or (value.isdigit() and int(value) < rule.scale_max - 1)
            if low or key in review.reasons:
                assert comment, (key, value)
                comments.add(comment)
        assert review.overall_comment
        overall.add(review.overall_comment)
        assert set(review.reasons) <= set(review.answers)
    assert len(comments) >= 15
    assert len(overall) >= 5
    assert any("30 messages" in comment for comment in comments)  # the facts fill them in
    assert any("flight" in comment for comment in comments)


def test_a_clean_conversation_mostly_gets_praise_and_no_complaints() -> None:
    reviews = _reviews(CLEAN)
    complaint_free = [review for review in reviews if not review.reasons]
    assert len(complaint_free) > len(reviews) / 3


def test_answers_suit_any_criterion_and_a_better_agent_scores_higher() -> None:
    points = CriterionRule(key="greeting", section="Other", kind=CriterionKind.POINTS, max_points=3)
    check = CriterionRule(key="used_macro", section="Other", kind=CriterionKind.YES_NO)
    rules = [*RULES, points, check]
    facts = replace(CLEAN, csat=2)
    for seed in range(50):
        answers = generate_review(facts, rules, random.Random(seed)).answers
        assert 0 <= int(answers["greeting"][0]) <= 3
        assert answers["used_macro"][0] in {"yes", "no"}

    def clarity(skill: float) -> float:
        values = [
            int(
                generate_review(CLEAN, RULES, random.Random(seed), skill=skill).answers["clarity"][
                    0
                ]
            )
            for seed in SEEDS
        ]
        return mean(values)

    assert clarity(1.0) > clarity(0.0) > clarity(-1.0)


@pytest.mark.parametrize(
    ("key", "value", "better"),
    [("resolved_or_escalated", "no", "yes"), ("clarity", "3", "4"), ("clarity", "5", "5")],
)
def test_a_dispute_in_the_agents_favour_moves_the_answer_one_step_up(
    key: str, value: str, better: str
) -> None:
    assert improved_answer(BY_KEY[key], value) == better
