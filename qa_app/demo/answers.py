"""The demo's review rule: a conversation's real properties give the answers a reviewer would.

Pure: no Flask, no database. A failed transaction, a low CSAT, an escalation, a reopened ticket,
a long handle time or many messages lower the criteria they concern, each with a comment that
says why; seeded random numbers add the spread real reviewers show, so one seed always gives the
same review. Criteria of the demo scorecard (``qa_app.demo.scorecard``) are judged by their key;
any other criterion by how many problems the conversation shows.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from qa_app.demo.comments import (
    FOCUS,
    OVERALL_GOOD,
    OVERALL_MIXED,
    OVERALL_POOR,
    PRAISE,
    REASONS,
)
from qa_app.scorecards.scoring import NA, CriterionKind

LONG_HANDLE_SECONDS = 1000  # about the slowest tenth of the demo conversations
MANY_MESSAGES = 26  # likewise
LOW_CSAT = 2  # at most
FAILED_TAG = "transaction-failed"
ESCALATION_TAGS = frozenset({"escalated", "escalation"})
REOPEN_TAGS = frozenset({"reopened"})
# Topics whose conversations touch the customer's account, or a booking with terms and fees.
IDENTITY_TOPICS = frozenset({"banks", "flights", "hotels", "homes", "rentalcars"})
DISCLOSURE_TOPICS = frozenset(
    {"banks", "buses", "events", "flights", "hotels", "movies", "rentalcars", "ridesharing"}
)
TOPIC_NAMES = {
    "banks": "bank transfer",
    "buses": "bus ticket",
    "calendar": "calendar",
    "events": "event ticket",
    "flights": "flight",
    "homes": "home viewing",
    "hotels": "hotel",
    "media": "streaming",
    "movies": "movie ticket",
    "music": "music",
    "rentalcars": "rental car",
    "restaurants": "restaurant",
    "ridesharing": "ride",
    "services": "appointment",
    "travel": "travel",
    "weather": "weather",
}
PRAISE_CHANCE = 0.15


class CriterionLike(Protocol):
    """What the rule reads of a criterion (a model row, a spec or a scoring rule)."""

    @property
    def key(self) -> str: ...
    @property
    def kind(self) -> CriterionKind: ...
    @property
    def allow_na(self) -> bool: ...
    @property
    def scale_max(self) -> int: ...
    @property
    def max_points(self) -> int: ...


@dataclass(frozen=True)
class Facts:
    """The properties of a conversation that a reviewer's answers follow."""

    channel: str = "chat"
    csat: int | None = None
    handle_seconds: int | None = None
    messages: int = 0
    agent_messages: int = 0
    tags: frozenset[str] = frozenset()

    @property
    def transaction_failed(self) -> bool:
        return FAILED_TAG in self.tags

    @property
    def escalated(self) -> bool:
        return bool(self.tags & ESCALATION_TAGS)

    @property
    def reopened(self) -> bool:
        return bool(self.tags & REOPEN_TAGS)

    @property
    def low_csat(self) -> bool:
        return self.csat is not None and self.csat <= LOW_CSAT

    @property
    def delighted(self) -> bool:
        return self.csat == 5

    @property
    def long_handle(self) -> bool:
        return self.handle_seconds is not None and self.handle_seconds >= LONG_HANDLE_SECONDS

    @property
    def many_messages(self) -> bool:
        return self.messages >= MANY_MESSAGES

    @property
    def topic(self) -> str:
        return next(
            (TOPIC_NAMES[tag] for tag in sorted(self.tags) if tag in TOPIC_NAMES), "support"
        )

    def problems(self) -> int:
        flags = (
            self.transaction_failed,
            self.low_csat,
            self.escalated,
            self.reopened,
            self.long_handle,
            self.many_messages,
        )
        return sum(flags)

    def details(self) -> dict[str, object]:
        return {
            "messages": self.messages,
            "minutes": round((self.handle_seconds or 0) / 60),
            "csat": self.csat if self.csat is not None else "-",
            "topic": self.topic,
        }


@dataclass(frozen=True)
class GeneratedReview:
    """Answers by criterion key, ``(value, comment)``; the reasons behind the low ones."""

    answers: dict[str, tuple[str, str]]
    overall_comment: str
    reasons: dict[str, str] = field(default_factory=dict)  # criterion key -> reason


@dataclass
class _Judgement:
    """One criterion's answer while it is worked out: deductions from the top, and why."""

    rng: random.Random
    skill: float
    steps: int = 0
    reason: str | None = None

    def deduct(self, reason: str, chance: float = 1.0) -> None:
        """One step down (a yes/no criterion: "no") with this chance; the first reason stays."""
        if chance >= 1.0 or self.rng.random() < chance:
            self.steps += 1
            self.reason = self.reason or reason


def _graded(criterion: CriterionLike, judgement: _Judgement) -> str:
    """A scale or points answer: a solid one, now and then the top or an off day, less the
    deductions."""
    low, high = (
        (1, criterion.scale_max)
        if criterion.kind == CriterionKind.SCALE
        else (
            0,
            criterion.max_points,
        )
    )
    value = high - 1 if high - low > 1 else high
    roll = judgement.rng.random()
    if roll < 0.35 + 0.2 * judgement.skill:
        value = high
    elif roll > 0.93 - 0.08 * judgement.skill:
        value -= 1
        judgement.reason = judgement.reason or "off_day"
    return str(min(max(value - judgement.steps, low), high))


def _yes_no(judgement: _Judgement) -> str:
    return "no" if judgement.steps else "yes"


def _judge(
    criterion: CriterionLike, facts: Facts, rng: random.Random, skill: float
) -> tuple[str, str | None]:
    """The answer to one criterion and the reason it is below the top (None: it is not)."""
    j = _Judgement(rng, skill)
    key = criterion.key
    if key == "correct_information":
        if facts.transaction_failed and facts.low_csat:
            j.deduct("wrong_confirmation", 0.35)
        j.deduct("wrong_fact", 0.015)
        return _yes_no(j), j.reason
    if key == "identity_verified":
        if not facts.tags & IDENTITY_TOPICS and criterion.allow_na:
            return NA, None
        j.deduct("identity_missed", 0.08 - 0.04 * skill)
        return _yes_no(j), j.reason
    if key == "required_disclosures":
        if not facts.tags & DISCLOSURE_TOPICS and criterion.allow_na:
            return NA, None
        j.deduct("disclosure_missed", 0.12 + (0.15 if facts.transaction_failed else 0.0))
        return _yes_no(j), j.reason
    if key == "resolved_or_escalated":
        if facts.escalated:
            j.deduct("escalated_badly", 0.15)
        elif facts.transaction_failed:
            j.deduct("failed_no_next_step", 0.45)
        elif facts.reopened:
            j.deduct("reopened_unresolved", 0.35)
        else:
            j.deduct("left_open", 0.2 if facts.low_csat else 0.03)
        value = _yes_no(j)
        return value, j.reason or ("escalated_well" if facts.escalated else None)
    if key == "first_contact_resolution":
        if facts.escalated and criterion.allow_na:
            return NA, None
        if facts.reopened:
            j.deduct("reopened_fcr", 1.0)
        elif facts.transaction_failed:
            j.deduct("failed_fcr")
        elif facts.long_handle:
            j.deduct("long_handle_fcr", 0.3)
        else:
            j.deduct("fcr_partial", 0.06)
        return _yes_no(j), j.reason
    if key == "clarity":
        if facts.many_messages:
            j.deduct("many_messages")
        if facts.long_handle:
            j.deduct("long_handle", 0.5)
        if facts.transaction_failed:
            j.deduct("failed_unclear", 0.4)
    elif key == "professionalism":
        if facts.agent_messages == 0 and criterion.allow_na:
            return NA, None
        if facts.low_csat:
            j.deduct("low_csat_tone", 0.6)
    elif key == "acknowledges_situation":
        if facts.low_csat:
            j.deduct("low_csat_empathy")
        if facts.transaction_failed:
            j.deduct("failed_empathy", 0.5)
        if facts.escalated or facts.reopened:
            j.deduct("repeat_contact", 0.3)
        if facts.delighted and j.steps:
            j.steps -= 1
    elif criterion.kind == CriterionKind.YES_NO:
        j.deduct("off_day", 0.04 * (1 + facts.problems()))
        return _yes_no(j), j.reason
    else:
        j.steps = facts.problems() // 2
        j.reason = "off_day" if j.steps else None
    value = _graded(criterion, j)
    top = str(
        criterion.scale_max if criterion.kind == CriterionKind.SCALE else criterion.max_points
    )
    return value, None if value == top else j.reason


def _comment(
    key: str, reason: str | None, facts: Facts, rng: random.Random
) -> tuple[str, str | None]:
    """The comment on an answer, and the reason it counts as a problem (None: it does not)."""
    if reason is None:
        if key in PRAISE and rng.random() < PRAISE_CHANCE:
            return rng.choice(PRAISE[key]), None
        return "", None
    if reason == "escalated_well":
        return rng.choice(PRAISE["resolved_or_escalated"]), None
    return rng.choice(REASONS[reason]).format(**facts.details()), reason


def generate_review(
    facts: Facts,
    criteria: Sequence[CriterionLike],
    rng: random.Random,
    *,
    skill: float = 0.0,
) -> GeneratedReview:
    """A reviewer's answers for a conversation with these ``facts``, in ``criteria`` order.

    ``skill`` (-1 to 1) is the agent's: better agents hit the top of a scale more often and slip
    less. One ``rng`` state gives one review.
    """
    skill = min(max(skill, -1.0), 1.0)
    # Each criterion draws from its own generator, so a problem that changes how one criterion
    # is judged leaves the others' answers as they were.
    base = rng.getrandbits(64)
    answers: dict[str, tuple[str, str]] = {}
    reasons: dict[str, str] = {}
    for criterion in criteria:
        own = random.Random(f"{base}:{criterion.key}")
        value, reason = _judge(criterion, facts, own, skill)
        comment, problem = _comment(criterion.key, reason, facts, own)
        answers[criterion.key] = (value, comment)
        if problem is not None:
            reasons[criterion.key] = problem
    return GeneratedReview(answers, overall_comment(facts, reasons.values(), rng), reasons)


# The most serious first (``FOCUS`` is in that order): the overall comment names the first one
# the review has. A critical criterion failed makes the review poor whatever else it has.
_SEVERITY = tuple(FOCUS)
_SERIOUS = frozenset(
    {
        "wrong_confirmation",
        "wrong_fact",
        "identity_missed",
        "failed_no_next_step",
        "reopened_unresolved",
        "left_open",
        "escalated_badly",
    }
)


def overall_comment(facts: Facts, reasons: Iterable[str], rng: random.Random) -> str:
    """One or two sentences: praise, or the main thing to work on."""
    found = set(reasons)
    if not found:
        return rng.choice(OVERALL_GOOD).format(**facts.details())
    focus = next(reason for reason in _SEVERITY if reason in found)
    templates = OVERALL_POOR if focus in _SERIOUS or len(found) >= 3 else OVERALL_MIXED
    return rng.choice(templates).format(focus=FOCUS[focus], **facts.details())


def improved_answer(criterion: CriterionLike, value: str) -> str:
    """The answer one step better: what a dispute that is upheld in the agent's favour gives."""
    if criterion.kind == CriterionKind.YES_NO:
        return "yes"
    high = criterion.scale_max if criterion.kind == CriterionKind.SCALE else criterion.max_points
    return str(min(int(value) + 1, high)) if value != NA else value
