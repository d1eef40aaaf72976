"""The scoring rule: one pure function from a scorecard's criteria and a review's answers to 0-100.

The rule, as shown to reviewers and agents:

* Each answered criterion earns a fraction of its weight: yes/no gives 1 for "yes" and 0 for
  "no"; a rating scale 1..N gives (rating - 1) / (N - 1); points 0..P give points / P.
* N/A answers (where the criterion allows them) leave the criterion out of both the earned and
  the possible weight, so they neither help nor hurt.
* The score is 100 x earned weight / possible weight, rounded to two decimals. A review whose
  criteria are all N/A has no score (None), not 0 and not 100.
* A critical criterion fails when it gets its lowest answer ("no", rating 1, 0 points). A failed
  criterion marked ``fail_section`` sets every criterion of its section to 0; one marked
  ``fail_review`` sets the whole score to 0 (auto-fail). An N/A critical criterion does not fail.
* Section scores follow the same rule within the section.

No Flask, no database: the function is tested on its own, with examples and properties.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

NA = "na"


class CriterionKind(StrEnum):
    YES_NO = "yes_no"
    SCALE = "scale"
    POINTS = "points"


class Critical(StrEnum):
    NO = "no"
    SECTION = "fail_section"
    REVIEW = "fail_review"


Answer = str | int  # "yes" / "no" / "na" for yes-no, an int for scale and points, or "na"


@dataclass(frozen=True)
class CriterionRule:
    """What scoring needs to know about one criterion."""

    key: str
    section: str
    kind: CriterionKind
    weight: float = 1.0
    allow_na: bool = False
    scale_max: int = 5  # scale criteria: ratings 1..scale_max
    max_points: int = 1  # points criteria: 0..max_points
    critical: Critical = Critical.NO

    def __post_init__(self) -> None:
        if self.weight < 0:
            raise ValueError(f"{self.key}: weight must not be negative")
        if self.kind == CriterionKind.SCALE and self.scale_max < 2:
            raise ValueError(f"{self.key}: a rating scale needs at least 2 points")
        if self.kind == CriterionKind.POINTS and self.max_points < 1:
            raise ValueError(f"{self.key}: points criteria need at least 1 point")


class AnswerError(ValueError):
    """An answer is missing or not valid for its criterion; the message names the criterion."""


@dataclass(frozen=True)
class ScoreResult:
    score: float | None
    auto_failed: bool
    failed_sections: tuple[str, ...]
    section_scores: dict[str, float | None] = field(default_factory=dict)
    earned: float = 0.0
    possible: float = 0.0


def answer_fraction(rule: CriterionRule, answer: Answer) -> float | None:
    """The fraction of its weight an answer earns, None for N/A; raises AnswerError if invalid."""
    if answer == NA:
        if not rule.allow_na:
            raise AnswerError(f"{rule.key}: N/A is not allowed for this criterion")
        return None
    if rule.kind == CriterionKind.YES_NO:
        if answer == "yes":
            return 1.0
        if answer == "no":
            return 0.0
        raise AnswerError(f"{rule.key}: answer yes or no, got {answer!r}")
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise AnswerError(f"{rule.key}: answer a whole number, got {answer!r}")
    if rule.kind == CriterionKind.SCALE:
        if not 1 <= answer <= rule.scale_max:
            raise AnswerError(f"{rule.key}: rate from 1 to {rule.scale_max}, got {answer}")
        return (answer - 1) / (rule.scale_max - 1)
    if not 0 <= answer <= rule.max_points:
        raise AnswerError(f"{rule.key}: give 0 to {rule.max_points} points, got {answer}")
    return answer / rule.max_points


def _percent(earned: float, possible: float) -> float | None:
    return round(100.0 * earned / possible, 2) if possible > 0 else None


def score_review(rules: Sequence[CriterionRule], answers: Mapping[str, Answer]) -> ScoreResult:
    """Score a complete set of answers; every criterion must be answered (N/A counts)."""
    fractions: dict[str, float | None] = {}
    for rule in rules:
        if rule.key not in answers:
            raise AnswerError(f"{rule.key}: not answered")
        fractions[rule.key] = answer_fraction(rule, answers[rule.key])
    unknown = set(answers) - {rule.key for rule in rules}
    if unknown:
        raise AnswerError(f"answers for unknown criteria: {', '.join(sorted(unknown))}")

    def failed(rule: CriterionRule) -> bool:
        return rule.critical != Critical.NO and fractions[rule.key] == 0.0

    auto_failed = any(failed(rule) and rule.critical == Critical.REVIEW for rule in rules)
    failed_sections = tuple(
        dict.fromkeys(
            rule.section for rule in rules if failed(rule) and rule.critical == Critical.SECTION
        )
    )
    earned = possible = 0.0
    section_totals: dict[str, list[float]] = {}
    for rule in rules:
        fraction = fractions[rule.key]
        totals = section_totals.setdefault(rule.section, [0.0, 0.0])
        if fraction is None:
            continue
        if rule.section in failed_sections:
            fraction = 0.0
        earned += rule.weight * fraction
        possible += rule.weight
        totals[0] += rule.weight * fraction
        totals[1] += rule.weight
    section_scores = {section: _percent(*totals) for section, totals in section_totals.items()}
    score = _percent(earned, possible)
    if auto_failed:
        score = 0.0
    return ScoreResult(
        score=score,
        auto_failed=auto_failed,
        failed_sections=failed_sections,
        section_scores=section_scores,
        earned=earned,
        possible=possible,
    )
