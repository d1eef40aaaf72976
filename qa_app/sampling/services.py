"""Sampling plans and runs: save a plan, run it into review assignments, reassign and skip them."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.org.models import Agent, Partner, Team
from qa_app.org.roles import Role
from qa_app.sampling import engine, hooks
from qa_app.sampling.models import (
    AssignmentEvent,
    AssignmentStatus,
    ReviewAssignment,
    SamplingPlan,
    SamplingRun,
    Strategy,
)
from qa_app.sampling.options import (
    IN_HOUSE,
    PlanConfigError,
    describe_strategy,
    format_weight,
    normalise_filters,
    normalise_params,
)
from qa_app.sampling.periods import Period, PeriodError, parse_period
from qa_app.scorecards.models import Scorecard
from qa_app.service_errors import Invalid

REVIEWER_ROLES = frozenset({Role.QA_SPECIALIST, Role.PARTNER_QA, Role.MANAGER})
MAX_NAME_LENGTH = 120
MAX_SEED = 2**31 - 1
MAX_DUE_DAYS = 365
MAX_SKIP_REASON_LENGTH = 2000
STRATUM_LENGTH = 200
# The inputs a reassignment's and a skip's refusals name (the API's body fields).
REVIEWER = "reviewer_id"
SKIP_REASON = "reason"


class SamplingError(Invalid):
    """A plan, run, reassignment or skip that cannot be done; the message says why, and
    ``field`` which input is to blame (None when the object's state is)."""


def new_seed() -> int:
    return secrets.randbelow(MAX_SEED + 1)


# Plans ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanInput:
    """Everything a plan is made of, as a form or an API gives it."""

    name: str
    scorecard_id: int
    strategy: Strategy
    filters: Mapping[str, Any] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    seed: int = 0
    reviewer_ids: Sequence[int] = ()
    partner_reviewers_own_only: bool = True
    due_days: int = 7
    is_active: bool = True


def _check_ids_exist(session: Session, model: Any, ids: Sequence[int], label: str) -> None:
    if not ids:
        return
    found = set(session.scalars(select(model.id).where(model.id.in_(ids))))
    missing = sorted(set(ids) - found)
    if missing:
        raise SamplingError(f"Unknown {label}: {', '.join(map(str, missing))}.")


def _reviewers(session: Session, reviewer_ids: Sequence[int]) -> list[User]:
    users = session.scalars(
        select(User).where(User.id.in_(set(reviewer_ids))).order_by(User.id)
    ).all()
    if len(users) != len(set(reviewer_ids)):
        raise SamplingError("Some reviewers do not exist.")
    for user in users:
        if not user.is_active:
            raise SamplingError(f"{user.name} is deactivated and cannot review.")
        if user.role not in REVIEWER_ROLES:
            raise SamplingError(
                f"{user.name} is {user.role.label.lower()}; reviewers are QA specialists, "
                "partner QA or managers."
            )
    return list(users)


def save_plan(
    session: Session, plan: SamplingPlan | None, data: PlanInput, *, by: User | None = None
) -> SamplingPlan:
    """Create (``plan`` None) or update a plan after checking every part of it."""
    name = " ".join(data.name.split())
    if not name:
        raise SamplingError("A plan needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise SamplingError(f"A plan name has at most {MAX_NAME_LENGTH} characters.")
    same_name = select(SamplingPlan.id).where(func.lower(SamplingPlan.name) == name.lower())
    if plan is not None:
        same_name = same_name.where(SamplingPlan.id != plan.id)
    if session.scalar(same_name) is not None:
        raise SamplingError(f"There is already a plan named {name!r}.")
    scorecard = session.get(Scorecard, data.scorecard_id)
    if scorecard is None:
        raise SamplingError("Choose a scorecard.")
    if not scorecard.is_active and (plan is None or plan.scorecard_id != scorecard.id):
        raise SamplingError(f"Scorecard {scorecard.name} is deactivated.")
    try:
        strategy = Strategy(data.strategy)
    except ValueError:
        raise SamplingError(f"Unknown strategy {data.strategy!r}.") from None
    try:
        filters = normalise_filters(data.filters)
        params = normalise_params(strategy, data.params)
    except PlanConfigError as error:
        raise SamplingError(str(error)) from error
    partner_ids = [pid for pid in filters.get("partner_ids", []) if pid != IN_HOUSE]
    _check_ids_exist(session, Partner, partner_ids, "partners")
    _check_ids_exist(session, Team, filters.get("team_ids", []), "teams")
    _check_ids_exist(session, Agent, filters.get("agent_ids", []), "agents")
    if not 0 <= data.seed <= MAX_SEED:
        raise SamplingError(f"The seed must be from 0 to {MAX_SEED:,}.")
    if not 1 <= data.due_days <= MAX_DUE_DAYS:
        raise SamplingError(f"Reviews are due within 1 to {MAX_DUE_DAYS} days.")
    reviewers = _reviewers(session, data.reviewer_ids)
    if plan is None:
        plan = SamplingPlan(created_by_id=by.id if by else None)
        session.add(plan)
    plan.name = name
    plan.scorecard_id = scorecard.id
    plan.strategy = strategy
    plan.filters = filters
    plan.params = params
    plan.seed = data.seed
    plan.reviewers = reviewers
    plan.partner_reviewers_own_only = data.partner_reviewers_own_only
    plan.due_days = data.due_days
    plan.is_active = data.is_active
    session.flush()
    return plan


def describe_filters(session: Session, filters: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The plan's filters in words, for pages: (what, which)."""

    def names(model: type[Partner] | type[Team] | type[Agent], ids: Sequence[int]) -> list[str]:
        found = dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())
        return [found.get(item, f"#{item} (deleted)") for item in ids]

    described: list[tuple[str, str]] = []
    if partner_ids := filters.get("partner_ids"):
        partners = names(Partner, [pid for pid in partner_ids if pid != IN_HOUSE])
        if IN_HOUSE in partner_ids:
            partners.append("In-house")
        described.append(("Partners", ", ".join(partners)))
    if team_ids := filters.get("team_ids"):
        described.append(("Teams", ", ".join(names(Team, team_ids))))
    if agent_ids := filters.get("agent_ids"):
        described.append(("Agents", ", ".join(names(Agent, agent_ids))))
    if channels := filters.get("channels"):
        described.append(("Channels", ", ".join(channels)))
    if days := filters.get("window_days"):
        described.append(("Started", f"in the {days} days before the period ends"))
    if "csat_min" in filters or "csat_max" in filters:
        csat = f"{filters.get('csat_min', 1)} to {filters.get('csat_max', 5)}"
        if filters.get("include_unrated"):
            csat += ", or unrated"
        described.append(("CSAT", csat))
    if tags := filters.get("tags"):
        described.append(("Tagged with any of", ", ".join(tags)))
    if seconds := filters.get("min_handle_seconds"):
        minutes, rest = divmod(seconds, 60)
        described.append(
            ("Handle time", f"at least {minutes} min" + (f" {rest} s" if rest else ""))
        )
    return described


# Runs -------------------------------------------------------------------------------------------


def as_period(period: str | Period) -> Period:
    try:
        return parse_period(period) if isinstance(period, str) else period
    except PeriodError as error:
        raise SamplingError(str(error)) from error


def plan_spec(plan: SamplingPlan) -> engine.PlanSpec:
    """The plan as the engine takes it, its filters and params checked again (they are JSON)."""
    try:
        filters = normalise_filters(plan.filters or {})
        params = normalise_params(Strategy(plan.strategy), plan.params or {})
    except PlanConfigError as error:
        raise SamplingError(f"Plan {plan.name!r} cannot run: {error} Edit the plan.") from error
    return engine.PlanSpec(Strategy(plan.strategy), filters, params, plan.seed)


def preview_plan(session: Session, plan: SamplingPlan, period: str | Period) -> engine.Preview:
    """Counts per stratum for ``period`` as a run would make them; writes nothing."""
    return engine.preview(session, plan_spec(plan), as_period(period))


def find_run(session: Session, plan: SamplingPlan, period: str | Period) -> SamplingRun | None:
    label = as_period(period).label
    stmt = select(SamplingRun).where(SamplingRun.plan_id == plan.id, SamplingRun.period == label)
    return session.scalars(stmt).one_or_none()


def run_unassigned(run: SamplingRun) -> int:
    """How many of the run's assignments found no eligible reviewer when it ran."""
    return sum(int(counts.get("unassigned", 0)) for counts in (run.strata or {}).values())


def run_plan(
    session: Session,
    plan: SamplingPlan,
    period: str | Period,
    *,
    by: User | None = None,
    now: datetime | None = None,
) -> SamplingRun:
    """Sample ``period`` and create the review assignments; a second run returns the first.

    The plan's row is locked first (PostgreSQL), so two simultaneous runs of one plan queue up
    and the second finds the first's run instead of sampling again.
    """
    period = as_period(period)
    session.execute(select(SamplingPlan.id).where(SamplingPlan.id == plan.id).with_for_update())
    existing = find_run(session, plan, period)
    if existing is not None:
        return existing
    if not plan.is_active:
        raise SamplingError(f"Plan {plan.name!r} is deactivated; reactivate it to run it.")
    strata, sample = engine.select_sample(session, plan_spec(plan), period)
    run = SamplingRun(
        plan_id=plan.id,
        period=period.label,
        seed=plan.seed,
        candidates=sum(stratum.candidates for stratum in strata),
        sampled=len(sample),
        created_by_id=by.id if by else None,
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError as error:
        raise SamplingError(
            f"Plan {plan.name!r} was run for {period.label} at the same time; nothing added."
        ) from error
    chosen = choose_reviewers(session, plan, sample)
    due_at = (now or utcnow()) + timedelta(days=plan.due_days)
    strategy = describe_strategy(plan.strategy, plan.params, period.kind)
    unassigned: dict[Any, int] = {}
    for item in sample:
        reviewer_id = chosen[item.conversation_id]
        if reviewer_id is None:
            unassigned[item.stratum] = unassigned.get(item.stratum, 0) + 1
        session.add(
            ReviewAssignment(
                conversation_id=item.conversation_id,
                scorecard_id=plan.scorecard_id,
                plan_id=plan.id,
                run_id=run.id,
                reviewer_id=reviewer_id,
                status=AssignmentStatus.OPEN,
                stratum=item.label[:STRATUM_LENGTH],
                weight=item.weight,
                reason=(
                    f"Sampled by plan '{plan.name}' ({strategy}), stratum '{item.label}', "
                    f"weight {format_weight(item.weight)}"
                ),
                due_at=due_at,
            )
        )
    run.strata = {
        stratum.label: {
            "candidates": stratum.candidates,
            "sampled": stratum.sampled,
            "unassigned": unassigned.get(stratum.key, 0),
            "weight": stratum.weight,
        }
        for stratum in strata
    }
    session.flush()
    return run


# Assignment -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """What the balancing needs of a sampled conversation."""

    conversation_id: int
    agent_id: int | None
    partner_id: int | None  # of the conversation's team; None for in-house or no team


def can_review(
    reviewer: User, agent_id: int | None, partner_id: int | None, own_only: bool
) -> bool:
    """Nobody reviews their own conversations; partner QA only ever review their own partner's.

    The partner boundary holds whatever the plan says: a partner user can never open another
    partner's (or in-house) conversations, so it could not review them. ``own_only`` is applied
    by ``balance``: it keeps a partner's conversations for that partner's QA.
    """
    if reviewer.agent_id is not None and reviewer.agent_id == agent_id:
        return False
    return reviewer.role != Role.PARTNER_QA or partner_id == reviewer.partner_id


def open_loads(session: Session, reviewer_ids: Sequence[int]) -> dict[int, int]:
    """Open and in-progress assignments per reviewer, in one query."""
    if not reviewer_ids:
        return {}
    rows = session.execute(
        select(ReviewAssignment.reviewer_id, func.count())
        .where(
            ReviewAssignment.reviewer_id.in_(reviewer_ids),
            ReviewAssignment.status.in_(engine.OPEN_STATUSES),
        )
        .group_by(ReviewAssignment.reviewer_id)
    )
    loads = {reviewer_id: 0 for reviewer_id in reviewer_ids}
    # reviewer_id IN (...) leaves out NULL, so the check only tells the type checker.
    loads.update({reviewer_id: count for reviewer_id, count in rows if reviewer_id is not None})
    return loads


def balance(
    candidates: Sequence[Candidate],
    reviewers: Sequence[User],
    loads: Mapping[int, int],
    *,
    own_only: bool,
) -> dict[int, int | None]:
    """Give each conversation to the least-loaded eligible reviewer (None when nobody may).

    With ``own_only``, a partner's conversations go to that partner's own QA reviewers whenever
    the plan has one who may take them; in-house reviewers get them only otherwise.

    The most constrained conversations go first, so reviewers with few eligible conversations
    (partner QA, say) are not starved by in-house reviewers taking theirs; ties go to the lower
    user id, which keeps the result reproducible.
    """
    load = {reviewer.id: loads.get(reviewer.id, 0) for reviewer in reviewers}
    eligible = {
        candidate.conversation_id: [
            reviewer
            for reviewer in reviewers
            if can_review(reviewer, candidate.agent_id, candidate.partner_id, own_only)
        ]
        for candidate in candidates
    }
    if own_only:
        for conversation_id, options in eligible.items():
            partner_qa = [user for user in options if user.role == Role.PARTNER_QA]
            if partner_qa:
                eligible[conversation_id] = partner_qa
    order = sorted(
        range(len(candidates)),
        key=lambda index: (len(eligible[candidates[index].conversation_id]), index),
    )
    chosen: dict[int, int | None] = {}
    for index in order:
        conversation_id = candidates[index].conversation_id
        options = eligible[conversation_id]
        if not options:
            chosen[conversation_id] = None
            continue
        reviewer = min(options, key=lambda user: (load[user.id], user.id))
        load[reviewer.id] += 1
        chosen[conversation_id] = reviewer.id
    return chosen


def choose_reviewers(
    session: Session, plan: SamplingPlan, sample: Sequence[engine.Sampled]
) -> dict[int, int | None]:
    """Balance a run's sample over the plan's active reviewers by their current open load."""
    reviewers = sorted(
        (user for user in plan.reviewers if user.is_active and user.role in REVIEWER_ROLES),
        key=lambda user: user.id,
    )
    team_ids = {item.team_id for item in sample if item.team_id is not None}
    partner_of = (
        dict(session.execute(select(Team.id, Team.partner_id).where(Team.id.in_(team_ids))).all())
        if team_ids
        else {}
    )
    candidates = [
        Candidate(
            item.conversation_id,
            item.agent_id,
            None if item.team_id is None else partner_of.get(item.team_id),
        )
        for item in sample
    ]
    loads = open_loads(session, [reviewer.id for reviewer in reviewers])
    return balance(candidates, reviewers, loads, own_only=plan.partner_reviewers_own_only)


def _conversation_partner(session: Session, conversation: Conversation) -> int | None:
    if conversation.team_id is None:
        return None
    return session.scalar(select(Team.partner_id).where(Team.id == conversation.team_id))


def eligible_reviewers(session: Session, assignment: ReviewAssignment) -> list[User]:
    """Active users who may take over ``assignment``, by name."""
    conversation = assignment.conversation
    partner_id = _conversation_partner(session, conversation)
    own_only = assignment.plan.partner_reviewers_own_only if assignment.plan else True
    users = session.scalars(
        select(User).where(User.is_active, User.role.in_(REVIEWER_ROLES)).order_by(User.name)
    )
    return [
        user
        for user in users
        if user.id != assignment.reviewer_id
        and can_review(user, conversation.agent_id, partner_id, own_only)
    ]


def reassign(
    session: Session, assignment: ReviewAssignment, reviewer: User, *, by: User | None = None
) -> ReviewAssignment:
    """Give an open assignment to another reviewer, within the same rules as a run."""
    if assignment.status != AssignmentStatus.OPEN:
        raise SamplingError(
            f"Only open assignments can be reassigned; this one is {assignment.status.value}."
        )
    if reviewer.id == assignment.reviewer_id:
        raise SamplingError(f"This assignment is already {reviewer.name}'s.", REVIEWER)
    if not reviewer.is_active or reviewer.role not in REVIEWER_ROLES:
        raise SamplingError(f"{reviewer.name} cannot review conversations.", REVIEWER)
    conversation = assignment.conversation
    if reviewer.agent_id is not None and reviewer.agent_id == conversation.agent_id:
        raise SamplingError(f"{reviewer.name} cannot review their own conversation.", REVIEWER)
    own_only = assignment.plan.partner_reviewers_own_only if assignment.plan else True
    partner_id = _conversation_partner(session, conversation)
    if not can_review(reviewer, conversation.agent_id, partner_id, own_only):
        raise SamplingError(
            f"{reviewer.name} is partner QA and may only review their own partner's conversations.",
            REVIEWER,
        )
    previous = assignment.reviewer
    assignment.reviewer_id = reviewer.id
    _record(
        session,
        assignment,
        by,
        "reassigned",
        {"from": _person(previous), "to": _person(reviewer)},
    )
    return assignment


def skip(
    session: Session, assignment: ReviewAssignment, reason: str, *, by: User | None = None
) -> ReviewAssignment:
    """Close an open or in-progress assignment without a review, saying why.

    A draft already started for it stays with its reviewer, detached from the assignment.
    """
    reason = (reason or "").strip()
    if not reason:
        raise SamplingError("Say why the conversation is skipped.", SKIP_REASON)
    if len(reason) > MAX_SKIP_REASON_LENGTH:
        raise SamplingError(
            f"The reason has at most {MAX_SKIP_REASON_LENGTH} characters.", SKIP_REASON
        )
    if assignment.status not in engine.OPEN_STATUSES:
        raise SamplingError(
            f"Only open or in-progress assignments can be skipped; this one is "
            f"{assignment.status.value.replace('_', ' ')}."
        )
    released = None
    if assignment.status == AssignmentStatus.IN_PROGRESS:
        released = hooks.release_work(session, assignment, by)
    assignment.status = AssignmentStatus.SKIPPED
    assignment.skip_reason = reason
    assignment.skipped_by_id = by.id if by is not None else None
    assignment.skipped_at = utcnow()
    _record(
        session,
        assignment,
        by,
        "skipped",
        {"reason": reason, "released_review_id": released},
        at=assignment.skipped_at,
    )
    return assignment


def history(session: Session, assignment: ReviewAssignment) -> list[AssignmentEvent]:
    """The assignment's reassignments and skip, oldest first, with who made them."""
    stmt = (
        select(AssignmentEvent)
        .where(AssignmentEvent.assignment_id == assignment.id)
        .options(joinedload(AssignmentEvent.actor))
        .order_by(AssignmentEvent.at, AssignmentEvent.id)
    )
    return list(session.scalars(stmt))


def _person(user: User | None) -> dict[str, Any] | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def _record(
    session: Session,
    assignment: ReviewAssignment,
    by: User | None,
    action: str,
    details: dict[str, Any],
    *,
    at: datetime | None = None,
) -> AssignmentEvent:
    """One entry of the assignment's history; ``by`` None is the system (shown as such)."""
    event = AssignmentEvent(
        assignment_id=assignment.id,
        actor_id=by.id if by is not None else None,
        at=at or utcnow(),
        action=action,
        details=details,
    )
    session.add(event)
    session.flush()
    return event
