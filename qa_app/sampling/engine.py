"""The sampling engine: candidates, a seeded random key and every strategy, computed in SQL.

No Flask here; functions take a SQLAlchemy session, so the views, the CLI and the benchmark share
them. Only this module reads ``SamplingPlan.filters`` and ``SamplingPlan.params``;
``qa_app.sampling.options`` checks them and holds their limits and defaults.

Filters (``SamplingPlan.filters``). Every key is optional and an absent key means "no
restriction"; keys combine with AND, the values of one list with OR:

====================  =====  ===================================================================
``partner_ids``       [int]  conversations of these partners' teams; ``0`` means in-house teams
``team_ids``          [int]  conversations of these teams (the agent's team at import time)
``agent_ids``         [int]  conversations of these agents
``channels``          [str]  chat, phone, email, messaging, social
``window_days``       int    conversations started in the N days before the period's end
                             (default: the period itself; more days than the period reach back)
``csat_min``          int    CSAT at least this (1-5)
``csat_max``          int    CSAT at most this (1-5)
``include_unrated``   bool   with a CSAT bound, also keep conversations that have no CSAT
``tags``              [str]  conversations with at least one of these tags
``min_handle_seconds`` int   handle time at least this long (unknown handle times are left out)
====================  =====  ===================================================================

Whatever the filters, a conversation is not a candidate when it has an open or in-progress
assignment, nor when a feature above sampling excludes it (``qa_app.sampling.hooks``): reviewed
conversations (a review other than a draft), conversations of calibration sessions.

Params (``SamplingPlan.params``) by strategy; ``options.normalise_params`` checks them and stores
the risk weights explicitly, so a plan keeps the weights it was saved with:

* ``uniform``: ``size``, the number of conversations per period, a simple random sample.
* ``quota_per_agent``: ``per_agent``, conversations per agent per period (all of an agent's
  candidates when they have fewer). Conversations without an agent are not sampled.
* ``stratified``: ``size`` and ``stratify_by`` (``team`` or ``channel``): ``size`` split over the
  strata in proportion to their candidates (largest remainder), a random sample in each.
* ``risk_weighted``: ``size`` and the risk settings below: a weighted random sample without
  replacement (Efraimidis-Spirakis: the ``size`` smallest ``-ln(u) / w``) where a conversation's
  weight ``w`` is 1 plus the weight of every risk it shows. Defaults (``options.RISK_DEFAULTS``):

  * low CSAT, at most ``low_csat_max`` (2): ``weight_low_csat`` +4
  * long handle time, at least ``long_handle_seconds`` (1800): ``weight_long_handle`` +2
  * escalation, a tag in ``escalation_tags`` (escalated, escalation): ``weight_escalation`` +3
  * reopen, a tag in ``reopen_tags`` (reopened): ``weight_reopen`` +2

  So an escalated conversation rated 1 weighs 1 + 4 + 3 = 8, an ordinary one 1.

Each strategy orders the candidates by the seeded random key of ``qa_app.sampling.randomkey``,
so the same plan, data, seed and period always give the same sample.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    String,
    and_,
    case,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import ColumnElement

from qa_app.conversations.models import Conversation, ConversationTag
from qa_app.org.models import Agent, Team
from qa_app.sampling.hooks import candidate_exclusions
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment, SamplingPlan, Strategy
from qa_app.sampling.options import IN_HOUSE, RISKS, risk_label, risk_weight
from qa_app.sampling.periods import Period
from qa_app.sampling.randomkey import uniform_from_key, with_random_key

OPEN_STATUSES = (AssignmentStatus.OPEN, AssignmentStatus.IN_PROGRESS)
DISABLE_POSTGRES_JIT = True  # see _prepare


# Candidates -------------------------------------------------------------------------------------


def candidate_window(filters: Mapping[str, Any], period: Period) -> tuple[datetime, datetime]:
    """[start, end) of start times: the period, or the ``window_days`` days before its end."""
    days = filters.get("window_days")
    return (period.end - timedelta(days=days) if days else period.start), period.end


def _has_tag(tags: Iterable[str]) -> ColumnElement[bool]:
    return exists().where(
        ConversationTag.conversation_id == Conversation.id, ConversationTag.tag.in_(list(tags))
    )


def candidate_query(
    filters: Mapping[str, Any], window: tuple[datetime, datetime]
) -> Select[int, int | None, int | None, str, int | None, int | None]:
    """SELECT the candidate conversations (id, agent, team, channel, CSAT, handle time), unscoped.

    The same SQL serves SQLite and PostgreSQL, so no dialect is needed.
    """
    start, end = window
    conditions: list[ColumnElement[bool]] = [
        Conversation.started_at >= start,
        Conversation.started_at < end,
        ~exists().where(
            ReviewAssignment.conversation_id == Conversation.id,
            ReviewAssignment.status.in_(OPEN_STATUSES),
        ),
        *candidate_exclusions(),
    ]
    if partner_ids := filters.get("partner_ids"):
        partners = [partner_id for partner_id in partner_ids if partner_id != IN_HOUSE]
        of_partners = [Team.partner_id.in_(partners)] if partners else []
        in_house = [Team.partner_id.is_(None)] if IN_HOUSE in partner_ids else []
        teams = select(Team.id).where(or_(*of_partners, *in_house))
        conditions.append(Conversation.team_id.in_(teams))
    if team_ids := filters.get("team_ids"):
        conditions.append(Conversation.team_id.in_(team_ids))
    if agent_ids := filters.get("agent_ids"):
        conditions.append(Conversation.agent_id.in_(agent_ids))
    if channels := filters.get("channels"):
        conditions.append(Conversation.channel.in_(channels))
    csat_range = [
        bound
        for bound in (
            Conversation.csat >= filters["csat_min"] if "csat_min" in filters else None,
            Conversation.csat <= filters["csat_max"] if "csat_max" in filters else None,
        )
        if bound is not None
    ]
    if csat_range:
        in_range = and_(*csat_range)
        unrated = Conversation.csat.is_(None)
        conditions.append(or_(in_range, unrated) if filters.get("include_unrated") else in_range)
    if tags := filters.get("tags"):
        conditions.append(_has_tag(tags))
    if min_handle := filters.get("min_handle_seconds"):
        conditions.append(Conversation.handle_time_seconds >= min_handle)
    return select(
        Conversation.id,
        Conversation.agent_id,
        Conversation.team_id,
        Conversation.channel,
        Conversation.csat,
        Conversation.handle_time_seconds,
    ).where(*conditions)


# Strategies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSpec:
    """What the engine needs of a plan."""

    strategy: Strategy
    filters: Mapping[str, Any]
    params: Mapping[str, Any]
    seed: int

    @classmethod
    def of(cls, plan: SamplingPlan) -> PlanSpec:
        return cls(Strategy(plan.strategy), plan.filters or {}, plan.params or {}, plan.seed)


@dataclass(frozen=True)
class Sampled:
    """One chosen conversation: its stratum (key and label) and its weight, in sample order."""

    conversation_id: int
    agent_id: int | None
    team_id: int | None
    stratum: Any
    label: str
    weight: float


@dataclass(frozen=True)
class StratumCount:
    key: Any
    label: str
    candidates: int
    sampled: int
    weight: float


@dataclass(frozen=True)
class Preview:
    period: Period
    window: tuple[datetime, datetime]
    strata: list[StratumCount]

    @property
    def candidates(self) -> int:
        return sum(stratum.candidates for stratum in self.strata)

    @property
    def sampled(self) -> int:
        return sum(stratum.sampled for stratum in self.strata)


class _Compiled:
    """A plan's statements for one period: candidates with stratum, weight and random key."""

    def __init__(self, spec: PlanSpec, period: Period) -> None:
        self.spec = spec
        self.period = period
        self.window = candidate_window(spec.filters, period)
        base = candidate_query(spec.filters, self.window)
        if spec.strategy == Strategy.QUOTA:
            base = base.where(Conversation.agent_id.is_not(None))
        # Only id and stratum: every column is carried through the key's rounds, and the
        # chosen few get their agent and team afterwards (see ``select_sample``).
        candidates = base.with_only_columns(
            Conversation.id, self._stratum().label("stratum")
        ).subquery("candidate")
        self.candidates = candidates
        rows = with_random_key(candidates, spec.seed, period.label)
        self.rows = rows
        self.key: ColumnElement[int] = rows.c.random_key
        if spec.strategy == Strategy.RISK:
            weights = {mask: risk_weight(spec.params, mask) for mask in range(2 ** len(RISKS))}
            self.weight: ColumnElement[float] = case(weights, value=rows.c.stratum, else_=1.0)
            # Efraimidis-Spirakis: the n smallest -ln(u)/w are a weighted sample, no replacement.
            self.order: ColumnElement[Any] = -func.ln(uniform_from_key(self.key)) / self.weight
        else:
            self.weight = literal(1.0, Float)
            self.order = self.key

    def _stratum(self) -> ColumnElement[Any] | InstrumentedAttribute[Any]:
        spec = self.spec
        if spec.strategy == Strategy.QUOTA:
            return Conversation.agent_id
        if spec.strategy == Strategy.STRATIFIED:
            if spec.params.get("stratify_by") == "channel":
                return Conversation.channel
            return func.coalesce(Conversation.team_id, 0)
        if spec.strategy == Strategy.RISK:
            params = spec.params
            low = and_(Conversation.csat.is_not(None), Conversation.csat <= params["low_csat_max"])
            long = Conversation.handle_time_seconds >= params["long_handle_seconds"]
            flags = [
                low,
                long,
                _has_tag(params["escalation_tags"]),
                _has_tag(params["reopen_tags"]),
            ]
            mask: ColumnElement[int] = sum(
                (case((flag, 1 << bit), else_=0) for bit, flag in enumerate(flags)), literal(0)
            )
            return mask
        return literal_column("'all'", String)

    def stratum_counts(self, session: Session) -> dict[Any, int]:
        stratum = self.candidates.c.stratum
        stmt = select(stratum, func.count()).group_by(stratum)
        return {stratum: count for stratum, count in session.execute(stmt)}

    def selection(self, counts: Mapping[Any, int]) -> Select[Any]:
        """The chosen rows (id, stratum, weight, rank), lowest rank first."""
        rows, spec = self.rows, self.spec
        if spec.strategy in (Strategy.UNIFORM, Strategy.RISK):
            return (
                select(
                    rows.c.id,
                    rows.c.stratum,
                    self.weight.label("weight"),
                    self.order.label("rank"),
                )
                .order_by(self.order, rows.c.id)
                .limit(spec.params["size"])
            )
        position = func.row_number().over(
            partition_by=rows.c.stratum, order_by=(self.key, rows.c.id)
        )
        ranked = select(
            rows.c.id, rows.c.stratum, self.key.label("rank"), position.label("position")
        ).subquery("ranked")
        if spec.strategy == Strategy.QUOTA:
            limit: ColumnElement[int] = literal(spec.params["per_agent"])
        else:
            shares = allocate(counts, spec.params["size"])
            limit = case(shares, value=ranked.c.stratum, else_=0) if shares else literal(0)
        return (
            select(
                ranked.c.id,
                ranked.c.stratum,
                literal(1.0, Float).label("weight"),
                ranked.c.rank,
            )
            .where(ranked.c.position <= limit)
            .order_by(ranked.c.rank, ranked.c.id)
        )

    def labels(self, session: Session, keys: Iterable[Any]) -> dict[Any, str]:
        keys = list(keys)
        strategy, params = self.spec.strategy, self.spec.params
        if strategy == Strategy.UNIFORM:
            return {key: "All candidates" for key in keys}
        if strategy == Strategy.RISK:
            return {key: risk_label(key) for key in keys}
        if strategy == Strategy.STRATIFIED and params.get("stratify_by") == "channel":
            return {key: f"Channel {key}" for key in keys}
        model, prefix = (Agent, "Agent") if strategy == Strategy.QUOTA else (Team, "Team")
        names = dict(session.execute(select(model.id, model.name).where(model.id.in_(keys))).all())
        labels = {key: f"{prefix} {names.get(key, f'#{key}')}" for key in keys}
        if 0 in labels and strategy == Strategy.STRATIFIED:
            labels[0] = "No team"
        seen: dict[str, int] = {}
        for label in labels.values():
            seen[label] = seen.get(label, 0) + 1
        return {
            key: f"{label} (#{key})" if seen[label] > 1 else label for key, label in labels.items()
        }


def allocate(counts: Mapping[Any, int], size: int) -> dict[Any, int]:
    """Split ``size`` over strata in proportion to ``counts`` by the largest-remainder method.

    Exact integer arithmetic; ties go to the larger stratum, then to the smaller key. Every share
    is at most its stratum's count, and the shares sum to ``min(size, sum(counts))``.
    """
    total = sum(counts.values())
    if total <= size:
        return {key: count for key, count in counts.items() if count}
    shares = {key: size * count // total for key, count in counts.items()}
    left = size - sum(shares.values())
    by_remainder = sorted(
        counts, key=lambda key: (-(size * counts[key] % total), -counts[key], key)
    )
    for key in by_remainder[:left]:
        shares[key] += 1
    return {key: share for key, share in shares.items() if share}


def _prepare(session: Session, spec: PlanSpec) -> None:
    """Per-database set-up of the sampling statements, for this transaction.

    PostgreSQL: JIT compilation (on by default above a plan cost these statements reach) spends
    about a second compiling them and gains nothing measurable; see benchmarks/sampling_bench.py.
    SQLite builds without the math functions get ``ln`` from Python (risk-weighted only).
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql" and DISABLE_POSTGRES_JIT:
        session.execute(text("SET LOCAL jit = off"))
    if dialect != "sqlite" or spec.strategy != Strategy.RISK:
        return
    dbapi_connection: Any = session.connection().connection.dbapi_connection
    try:
        dbapi_connection.execute("SELECT ln(2.0)").fetchone()
    except sqlite3.OperationalError:
        dbapi_connection.create_function("ln", 1, math.log, deterministic=True)


def select_sample(
    session: Session, spec: PlanSpec, period: Period
) -> tuple[list[StratumCount], list[Sampled]]:
    """Run the plan's selection: the strata with their counts, and the chosen conversations."""
    _prepare(session, spec)
    compiled = _Compiled(spec, period)
    counts = compiled.stratum_counts(session)
    selection = compiled.selection(counts).subquery("chosen")
    chosen = session.execute(
        select(
            selection.c.id,
            Conversation.agent_id,
            Conversation.team_id,
            selection.c.stratum,
            selection.c.weight,
        )
        .join(Conversation, Conversation.id == selection.c.id)
        .order_by(selection.c.rank, selection.c.id)
    ).all()
    labels = compiled.labels(session, counts)
    sampled: dict[Any, int] = {}
    for row in chosen:
        sampled[row.stratum] = sampled.get(row.stratum, 0) + 1
    strata = _strata(compiled, counts, sampled, labels)
    return strata, [
        Sampled(row.id, row.agent_id, row.team_id, row.stratum, labels[row.stratum], row.weight)
        for row in chosen
    ]


def preview(session: Session, plan: SamplingPlan | PlanSpec, period: Period) -> Preview:
    """Candidates and conversations to sample per stratum for ``period``; writes nothing."""
    spec = plan if isinstance(plan, PlanSpec) else PlanSpec.of(plan)
    _prepare(session, spec)
    compiled = _Compiled(spec, period)
    counts = compiled.stratum_counts(session)
    chosen = compiled.selection(counts).subquery()
    sampled: dict[Any, int] = dict(
        session.execute(select(chosen.c.stratum, func.count()).group_by(chosen.c.stratum)).all()
    )
    labels = compiled.labels(session, counts)
    return Preview(period, compiled.window, _strata(compiled, counts, sampled, labels))


def _strata(
    compiled: _Compiled,
    counts: Mapping[Any, int],
    sampled: Mapping[Any, int],
    labels: Mapping[Any, str],
) -> list[StratumCount]:
    spec = compiled.spec
    strata = [
        StratumCount(
            key,
            labels[key],
            count,
            sampled.get(key, 0),
            risk_weight(spec.params, key) if spec.strategy == Strategy.RISK else 1.0,
        )
        for key, count in counts.items()
    ]
    return sorted(
        strata, key=lambda stratum: (-stratum.sampled, -stratum.candidates, stratum.label)
    )
