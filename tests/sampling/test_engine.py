"""The sampling engine: periods, the SQL random key, filters, exclusions and every strategy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from sqlalchemy import BigInteger, func, literal, select, union_all
from sqlalchemy.orm import Session

from qa_app.org.roles import Role
from qa_app.reviews.models import Review, ReviewStatus
from qa_app.sampling import engine
from qa_app.sampling.models import (
    AssignmentStatus,
    ReviewAssignment,
    SamplingRun,
    Strategy,
)
from qa_app.sampling.options import normalise_filters, normalise_params
from qa_app.sampling.periods import PeriodError, current_week, parse_period
from qa_app.sampling.randomkey import KEY_MODULUS, python_key, with_random_key
from qa_app.scorecards.models import Scorecard, ScorecardVersion
from tests.conftest import Factory
from tests.sampling.conftest import WEEK, BulkMaker


def spec(
    strategy: Strategy = Strategy.UNIFORM,
    params: dict[str, Any] | None = None,
    filters: dict[str, Any] | None = None,
    seed: int = 7,
) -> engine.PlanSpec:
    return engine.PlanSpec(
        strategy,
        normalise_filters(filters or {}),
        normalise_params(strategy, params or {"size": 10}),
        seed,
    )


def sampled_ids(db: Session, plan_spec: engine.PlanSpec, period: Any = WEEK) -> list[int]:
    return [item.conversation_id for item in engine.select_sample(db, plan_spec, period)[1]]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# Periods ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "kind", "start", "end"),
    [
        ("2026-W40", "2026-W40", "week", utc(2026, 9, 28), utc(2026, 10, 5)),
        ("2026-w7", "2026-W07", "week", utc(2026, 2, 9), utc(2026, 2, 16)),
        ("2026W53", "2026-W53", "week", utc(2026, 12, 28), utc(2027, 1, 4)),
        ("2027-W01", "2027-W01", "week", utc(2027, 1, 4), utc(2027, 1, 11)),
        ("2026-11", "2026-11", "month", utc(2026, 11, 1), utc(2026, 12, 1)),
        ("2026-12", "2026-12", "month", utc(2026, 12, 1), utc(2027, 1, 1)),
        (" 2028-02-29 ", "2028-02-29", "day", utc(2028, 2, 29), utc(2028, 3, 1)),
    ],
)
def test_periods_are_parsed_to_utc_intervals(
    text: str, label: str, kind: str, start: datetime, end: datetime
) -> None:
    period = parse_period(text)
    assert (period.label, period.kind, period.start, period.end) == (label, kind, start, end)


@pytest.mark.parametrize(
    "text", ["2025-W53", "2026-W00", "2026-13", "2026-02-30", "last week", "", "0001-W01"]
)
def test_bad_periods_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_current_week_is_the_iso_week_of_now() -> None:
    assert current_week(utc(2026, 11, 22, 23, 59)).label == "2026-W47"  # a Sunday
    assert current_week(utc(2026, 11, 23, 0, 0)).label == "2026-W48"


# The random key ---------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2**31 - 1])
def test_sql_key_equals_the_python_key_on_this_database(db: Session, seed: int) -> None:
    ids = [0, 1, 2, 3, 1000, 123_456_789, 2**31 - 1, KEY_MODULUS - 1, KEY_MODULUS + 5, 2**40]
    rows = union_all(*(select(literal(value, BigInteger).label("id")) for value in ids)).subquery()
    keyed = with_random_key(rows, seed, "2026-W40")
    found = dict(db.execute(select(keyed.c.id, keyed.c.random_key)).all())
    assert found == {value: python_key(value, seed, "2026-W40") for value in ids}


def test_key_is_a_permutation_of_ids() -> None:
    keys = [python_key(value, 3, "2026-W40") for value in range(50_000)]
    assert len(set(keys)) == len(keys)
    assert all(0 <= key < KEY_MODULUS for key in keys)


# Reproducibility --------------------------------------------------------------------------------

STRATEGY_SPECS = {
    Strategy.UNIFORM: {"size": 12},
    Strategy.QUOTA: {"per_agent": 3},
    Strategy.STRATIFIED: {"size": 12, "stratify_by": "team"},
    Strategy.RISK: {"size": 12},
}


@pytest.fixture
def three_agents(make: Factory, bulk: BulkMaker) -> list[Any]:
    agents = [make.agent(make.team()) for _ in range(3)]
    for number, agent in enumerate(agents):
        bulk(40 + 10 * number, agent, csat=number + 1, tags=("escalated",) if number else ())
    return agents


@pytest.mark.usefixtures("three_agents")
@pytest.mark.parametrize("strategy", list(Strategy))
def test_same_plan_data_and_seed_give_the_same_sample(db: Session, strategy: Strategy) -> None:
    plan_spec = spec(strategy, STRATEGY_SPECS[strategy], seed=11)
    first = sampled_ids(db, plan_spec)
    assert len(first) == 12 if strategy != Strategy.QUOTA else 9
    assert sampled_ids(db, plan_spec) == first
    assert sampled_ids(db, spec(strategy, STRATEGY_SPECS[strategy], seed=11)) == first


@pytest.mark.usefixtures("three_agents")
@pytest.mark.parametrize("strategy", list(Strategy))
def test_another_seed_or_period_gives_another_sample(db: Session, strategy: Strategy) -> None:
    params = STRATEGY_SPECS[strategy]
    first = set(sampled_ids(db, spec(strategy, params, seed=11)))
    assert set(sampled_ids(db, spec(strategy, params, seed=12))) != first
    # The same week's conversations seen from a ten-day window ending a day later.
    next_day = parse_period("2026-10-05")
    window = {"window_days": 10}
    from_week = set(sampled_ids(db, spec(strategy, params, window, seed=11)))
    from_day = set(sampled_ids(db, spec(strategy, params, window, seed=11), next_day))
    assert from_week != from_day


def test_uniform_sampling_is_uniform(db: Session, make: Factory, bulk: BulkMaker) -> None:
    """Over 50 seeds, 200 of 2,000 conversations: every conversation and every tenth of them (in
    order of arrival) is picked about equally often, positions are uniform (Kolmogorov-Smirnov),
    and two seeds' samples overlap no more than chance says. The seeds are fixed: no flakes."""
    ids = bulk(2000, make.agent(), step=timedelta(minutes=3))
    position = {conversation_id: index for index, conversation_id in enumerate(ids)}
    picks: Counter[int] = Counter()
    overlaps = []
    previous: set[int] | None = None
    for seed in range(50):
        chosen = set(sampled_ids(db, spec(params={"size": 200}, seed=seed)))
        assert len(chosen) == 200
        picks.update(chosen)
        if previous is not None:
            overlaps.append(len(previous & chosen))
        previous = chosen
    positions = [position[conversation_id] for conversation_id in picks.elements()]
    deciles = Counter(index * 10 // len(ids) for index in positions)
    assert stats.chisquare([deciles[decile] for decile in range(10)]).pvalue > 0.001
    assert stats.chisquare([picks[conversation_id] for conversation_id in ids]).pvalue > 0.001
    unit = [(index + 0.5) / len(ids) for index in positions]
    assert stats.kstest(unit, "uniform").pvalue > 0.001
    # Two independent samples of 200 of 2,000 share 20 on average (hypergeometric, sd 4).
    assert 17 < sum(overlaps) / len(overlaps) < 23


# Filters and exclusions -------------------------------------------------------------------------


@pytest.fixture
def filter_world(make: Factory, bulk: BulkMaker) -> dict[str, Any]:
    """Three teams (partner 1, partner 2, in-house) of one agent each, and conversations varying
    in channel, CSAT, tags, handle time and start; returns the objects and each conversation's
    attributes keyed by id."""
    partner_one, partner_two = make.partner("One"), make.partner("Two")
    team_one, team_two = make.team("T1", partner_one), make.team("T2", partner_two)
    team_home = make.team("Home")
    agents = {
        "a1": make.agent(team_one, name="A1"),
        "a2": make.agent(team_two, name="A2"),
        "a0": make.agent(team_home, name="A0"),
    }
    variants = [
        {"channel": "chat", "csat": 5, "handle_time_seconds": 300, "tags": ("billing",)},
        {"channel": "email", "csat": 1, "handle_time_seconds": 1200, "tags": ("refund",)},
        {"channel": "phone", "csat": None, "handle_time_seconds": None, "tags": ()},
        {"channel": "chat", "csat": 3, "handle_time_seconds": 900, "tags": ("refund", "vip")},
        {"channel": "messaging", "csat": 2, "handle_time_seconds": 2000, "tags": ("escalated",)},
    ]
    starts = {
        "monday": WEEK.start + timedelta(hours=10),
        "sunday": WEEK.end - timedelta(hours=3),
        "before": WEEK.start - timedelta(days=2),  # only in a 10-day window
        "after": WEEK.end + timedelta(hours=1),  # never a candidate for this week
    }
    rows: dict[int, dict[str, Any]] = {}
    for agent_key, agent in agents.items():
        for variant in variants:
            for start_key, started_at in starts.items():
                fields = {key: value for key, value in variant.items() if key != "tags"}
                [conversation_id] = bulk(1, agent, start=started_at, tags=variant["tags"], **fields)
                rows[conversation_id] = {**variant, "agent": agent_key, "start": start_key}
    fields = {key: value for key, value in variants[0].items() if key != "tags"}
    [unassigned] = bulk(1, None, start=starts["monday"], tags=variants[0]["tags"], **fields)
    rows[unassigned] = {**variants[0], "agent": None, "start": "monday"}
    return {
        "rows": rows,
        "partners": {"one": partner_one.id, "two": partner_two.id},
        "teams": {"t1": team_one.id, "t2": team_two.id, "home": team_home.id},
        "agents": {key: agent.id for key, agent in agents.items()},
    }


Case = tuple[Callable[[dict[str, Any]], dict[str, Any]], Callable[[dict[str, Any]], bool]]
IN_WEEK = ("monday", "sunday")
FILTER_CASES: dict[str, Case] = {
    "no filter": (lambda w: {}, lambda r: True),
    "partner": (lambda w: {"partner_ids": [w["partners"]["one"]]}, lambda r: r["agent"] == "a1"),
    "in-house": (lambda w: {"partner_ids": [0]}, lambda r: r["agent"] == "a0"),
    "partner or in-house": (
        lambda w: {"partner_ids": [w["partners"]["two"], 0]},
        lambda r: r["agent"] in ("a2", "a0"),
    ),
    "team": (lambda w: {"team_ids": [w["teams"]["t2"]]}, lambda r: r["agent"] == "a2"),
    "agents": (
        lambda w: {"agent_ids": [w["agents"]["a0"], w["agents"]["a1"]]},
        lambda r: r["agent"] in ("a0", "a1"),
    ),
    "channels": (
        lambda w: {"channels": ["email", "phone"]},
        lambda r: r["channel"] in ("email", "phone"),
    ),
    "csat from": (lambda w: {"csat_min": 3}, lambda r: r["csat"] is not None and r["csat"] >= 3),
    "csat to": (lambda w: {"csat_max": 2}, lambda r: r["csat"] is not None and r["csat"] <= 2),
    "csat range": (
        lambda w: {"csat_min": 2, "csat_max": 3},
        lambda r: r["csat"] in (2, 3),
    ),
    "csat to, or unrated": (
        lambda w: {"csat_max": 2, "include_unrated": True},
        lambda r: r["csat"] is None or r["csat"] <= 2,
    ),
    "any of the tags": (
        lambda w: {"tags": ["Refund", "escalated"]},
        lambda r: bool({"refund", "escalated"} & set(r["tags"])),
    ),
    "minimum handle time": (
        lambda w: {"min_handle_seconds": 900},
        lambda r: (r["handle_time_seconds"] or 0) >= 900,
    ),
    "short window": (lambda w: {"window_days": 1}, lambda r: r["start"] == "sunday"),
    "long window": (lambda w: {"window_days": 10}, lambda r: r["start"] != "after"),
    "combined": (
        lambda w: {"channels": ["chat"], "csat_max": 3, "partner_ids": [w["partners"]["one"], 0]},
        lambda r: r["channel"] == "chat" and r["csat"] == 3 and r["agent"] in ("a1", "a0"),
    ),
}


@pytest.mark.parametrize("case", sorted(FILTER_CASES))
def test_each_filter_selects_exactly_the_matching_conversations(
    db: Session, filter_world: dict[str, Any], case: str
) -> None:
    make_filters, matches = FILTER_CASES[case]
    filters = normalise_filters(make_filters(filter_world))
    window = engine.candidate_window(filters, WEEK)
    found = set(db.scalars(select(engine.candidate_query(filters, window).subquery().c.id)))
    in_window = IN_WEEK + (("before",) if filters.get("window_days", 0) > 7 else ())
    expected = {
        conversation_id
        for conversation_id, row in filter_world["rows"].items()
        if matches(row) and row["start"] in in_window
    }
    assert found == expected
    assert expected, "every case should match something"
    counted = engine.preview(db, spec(params={"size": 10_000}, filters=filters), WEEK)
    assert counted.candidates == counted.sampled == len(expected)


def test_reviewed_and_open_conversations_are_not_candidates(
    db: Session, make: Factory, bulk: BulkMaker
) -> None:
    agent = make.agent()
    reviewer = make.user(Role.QA_SPECIALIST)
    card = Scorecard(name="Card")
    version = ScorecardVersion(scorecard=card, number=1)
    db.add_all([card, version])
    db.commit()
    ids = bulk(9, agent)
    for conversation_id, status in zip(ids[:4], list(ReviewStatus)[1:], strict=False):
        db.add(
            Review(
                conversation_id=conversation_id,
                scorecard_version_id=version.id,
                reviewer_id=reviewer.id,
                status=status,
            )
        )
    db.add(Review(conversation_id=ids[4], scorecard_version_id=version.id, reviewer_id=reviewer.id))
    for conversation_id, status in zip(ids[5:], list(AssignmentStatus), strict=True):
        db.add(
            ReviewAssignment(conversation_id=conversation_id, scorecard_id=card.id, status=status)
        )
    db.commit()
    found = set(sampled_ids(db, spec(params={"size": 100})))
    # Submitted, acknowledged, disputed and resolved reviews, open and in-progress assignments
    # exclude; a draft review and a done or skipped assignment do not.
    assert found == {ids[4], ids[7], ids[8]}


# Quotas, strata, weights ------------------------------------------------------------------------


def test_quota_takes_the_quota_or_all_of_each_agents_conversations(
    db: Session, make: Factory, bulk: BulkMaker
) -> None:
    team = make.team()
    agents = [make.agent(team, name=f"Maya {count}") for count in (0, 2, 5, 9)]
    for agent, count in zip(agents, (0, 2, 5, 9), strict=True):
        bulk(count, agent)
    bulk(6, None)
    strata, chosen = engine.select_sample(db, spec(Strategy.QUOTA, {"per_agent": 5}), WEEK)
    per_agent = Counter(item.agent_id for item in chosen)
    assert per_agent == {agents[1].id: 2, agents[2].id: 5, agents[3].id: 5}
    assert {item.label for item in chosen} == {"Agent Maya 2", "Agent Maya 5", "Agent Maya 9"}
    assert {(s.label, s.candidates, s.sampled) for s in strata} == {
        ("Agent Maya 2", 2, 2),
        ("Agent Maya 5", 5, 5),
        ("Agent Maya 9", 9, 5),
    }
    assert all(item.weight == 1.0 for item in chosen)


def test_quota_strata_of_agents_with_the_same_name_are_told_apart(
    db: Session, make: Factory, bulk: BulkMaker
) -> None:
    twins = [make.agent(name="Sam Lee") for _ in range(2)]
    for agent in twins:
        bulk(3, agent)
    strata, _ = engine.select_sample(db, spec(Strategy.QUOTA, {"per_agent": 1}), WEEK)
    assert sorted(s.label for s in strata) == [f"Agent Sam Lee (#{agent.id})" for agent in twins]


@pytest.mark.parametrize(
    ("counts", "size", "expected"),
    [
        ({"a": 50, "b": 30, "c": 20}, 10, {"a": 5, "b": 3, "c": 2}),
        ({"a": 50, "b": 30, "c": 15, "d": 5}, 20, {"a": 10, "b": 6, "c": 3, "d": 1}),
        ({"a": 7, "b": 3}, 5, {"a": 4, "b": 1}),  # equal remainders: the larger stratum
        ({"b": 1, "a": 1, "c": 1}, 2, {"a": 1, "b": 1}),  # all equal: by key
        ({"a": 3, "b": 0}, 10, {"a": 3}),  # fewer candidates than the size
        ({}, 10, {}),
    ],
)
def test_largest_remainder_allocation(
    counts: dict[str, int], size: int, expected: dict[str, int]
) -> None:
    assert engine.allocate(counts, size) == expected


@given(
    counts=st.dictionaries(st.integers(1, 50), st.integers(0, 10_000), max_size=30),
    size=st.integers(1, 5_000),
)
def test_allocation_is_proportional_and_sums_to_the_size(counts: dict[int, int], size: int) -> None:
    shares = engine.allocate(counts, size)
    total = sum(counts.values())
    assert sum(shares.values()) == min(size, total)
    for key, share in shares.items():
        assert 0 < share <= counts[key]
        if total > size:
            assert abs(share - size * counts[key] / total) < 1


@pytest.mark.parametrize("stratify_by", ["team", "channel"])
def test_stratified_sample_follows_the_allocation(
    db: Session, make: Factory, bulk: BulkMaker, stratify_by: str
) -> None:
    sizes = {"chat": 50, "email": 30, "phone": 15, "social": 5}
    for channel, count in sizes.items():
        bulk(count, make.agent(make.team(f"Team {channel}")), channel=channel)
    strata, chosen = engine.select_sample(
        db, spec(Strategy.STRATIFIED, {"size": 20, "stratify_by": stratify_by}), WEEK
    )
    assert len(chosen) == 20
    by_stratum = Counter(item.label for item in chosen)
    prefix = "Team Team " if stratify_by == "team" else "Channel "
    assert by_stratum == {
        f"{prefix}chat": 10,
        f"{prefix}email": 6,
        f"{prefix}phone": 3,
        f"{prefix}social": 1,
    }
    assert sum(s.sampled for s in strata) == 20
    assert {s.label: s.candidates for s in strata} == {f"{prefix}{k}": v for k, v in sizes.items()}


def test_risk_strata_and_weights_follow_the_stated_weights(
    db: Session, make: Factory, bulk: BulkMaker
) -> None:
    agent = make.agent()
    bulk(2, agent, csat=4)
    bulk(2, agent, csat=2)
    bulk(2, agent, handle_time_seconds=1800)
    bulk(2, agent, tags=("escalation",))
    bulk(2, agent, tags=("reopened",))
    bulk(2, agent, csat=1, handle_time_seconds=4000, tags=("escalated", "reopened"))
    strata, chosen = engine.select_sample(db, spec(Strategy.RISK, {"size": 100}), WEEK)
    assert {(s.label, s.candidates, s.weight) for s in strata} == {
        ("No risk factor", 2, 1.0),
        ("Low CSAT", 2, 5.0),
        ("Long handle time", 2, 3.0),
        ("Escalated", 2, 4.0),
        ("Reopened", 2, 3.0),
        ("Low CSAT + Long handle time + Escalated + Reopened", 2, 12.0),
    }
    assert len(chosen) == 12
    custom = spec(Strategy.RISK, {"size": 100, "weight_low_csat": 0.5, "escalation_tags": []})
    weights = {s.label: s.weight for s in engine.select_sample(db, custom, WEEK)[0]}
    assert weights["Low CSAT"] == 1.5
    assert "Escalated" not in weights  # no escalation tags: nobody is escalated


def test_risk_weighted_sampling_favours_risky_conversations(
    db: Session, make: Factory, bulk: BulkMaker
) -> None:
    """100 escalated conversations rated 1 (weight 8) among 900 ordinary ones (weight 1):
    a first pick is risky with probability 800/1700, and risky ones fill far more than their
    10% of a sample of 100."""
    agent = make.agent()
    risky = set(bulk(100, agent, csat=1, tags=("escalated",)))
    bulk(900, agent, csat=5)
    first_picks = [
        sampled_ids(db, spec(Strategy.RISK, {"size": 1}, seed=seed))[0] for seed in range(300)
    ]
    hits = sum(pick in risky for pick in first_picks)
    assert stats.binomtest(hits, len(first_picks), 800 / 1700).pvalue > 0.001
    shares = [
        len(risky & set(sampled_ids(db, spec(Strategy.RISK, {"size": 100}, seed=seed)))) / 100
        for seed in range(10)
    ]
    assert min(shares) > 0.25
    uniform = [
        len(risky & set(sampled_ids(db, spec(params={"size": 100}, seed=s)))) / 100
        for s in range(10)
    ]
    assert sum(uniform) / 10 < 0.15


# Preview ----------------------------------------------------------------------------------------


def test_preview_counts_strata_as_a_run_would_and_writes_nothing(
    db: Session, make: Factory, bulk: BulkMaker
) -> None:
    agents = [make.agent(name=name) for name in ("Ann", "Bo")]
    bulk(8, agents[0])
    bulk(2, agents[1])
    plan_spec = spec(Strategy.QUOTA, {"per_agent": 3})
    result = engine.preview(db, plan_spec, WEEK)
    assert (result.candidates, result.sampled) == (10, 5)
    assert [(s.label, s.candidates, s.sampled) for s in result.strata] == [
        ("Agent Ann", 8, 3),
        ("Agent Bo", 2, 2),
    ]
    strata, _ = engine.select_sample(db, plan_spec, WEEK)
    assert strata == result.strata
    assert db.scalar(select(func.count()).select_from(SamplingRun)) == 0
    assert db.scalar(select(func.count()).select_from(ReviewAssignment)) == 0
