"""The demo's review work: a weekly sampling plan run over the past weeks, every sampled
conversation reviewed, and this week's assignments still to do.

Everything goes through the app's services (the sampling plan and its runs, starting, saving and
submitting reviews), so the demo obeys the app's rules: partner QA review only their own
partner's conversations, nobody reviews a conversation twice. The answers follow each
conversation's real properties (``qa_app.demo.answers``), drawn from random numbers seeded by the
conversation, so every demo has the same reviews. Only the moments are set afterwards: the past
weeks' runs happened on their Mondays, the reviews during those weeks.

A run is found again by its plan and week, so running the seed again adds nothing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, joinedload

from qa_app.auth.models import User
from qa_app.auth.services import find_user_by_email
from qa_app.conversations.models import Conversation, ConversationTag, Message
from qa_app.db import utcnow
from qa_app.demo.answers import Facts, GeneratedReview, generate_review
from qa_app.demo.seed import DEMO_DOMAIN
from qa_app.org.roles import Role
from qa_app.reviews import services as reviews
from qa_app.reviews.answers import ordered_criteria
from qa_app.reviews.models import Review, ReviewEvent
from qa_app.sampling import services as sampling
from qa_app.sampling.models import ReviewAssignment, SamplingPlan, SamplingRun, Strategy
from qa_app.sampling.periods import Period, current_week, week_of
from qa_app.scorecards.models import Criterion, Scorecard, ScorecardVersion

PLAN_NAME = "Weekly coverage"
PLAN_SEED = 2026
PAST_WEEKS = 8
DUE_DAYS = 4  # Monday's run is due on Friday
RUN_HOUR = 6  # the runs are a Monday-morning cron job
REVIEW_DAYS = 4  # reviewers spread a week's assignments over Monday to Thursday
MANAGER = f"manager@{DEMO_DOMAIN}"
IN_HOUSE_REVIEWERS = (f"qa@{DEMO_DOMAIN}", f"qa2@{DEMO_DOMAIN}")
DRAFTED_BY = IN_HOUSE_REVIEWERS[0]  # has started one of this week's reviews
DRAFTED_ANSWERS = 3


@dataclass
class ReviewsReport:
    """What one seed added."""

    weeks: int = 0
    reviews: int = 0
    acknowledged: int = 0
    disputes_open: int = 0
    disputes_resolved: int = 0
    assignments_open: int = 0
    drafts: int = 0

    def summary(self) -> str:
        if not (self.weeks or self.assignments_open):
            return "nothing new"
        return (
            f"{self.reviews} reviews over {self.weeks} weeks ({self.acknowledged} acknowledged;"
            f" disputes: {self.disputes_resolved} resolved, {self.disputes_open} open),"
            f" {self.assignments_open} assignments due this week ({self.drafts} started)"
        )


@dataclass(frozen=True)
class Reviewed:
    """A review the seed made, with what the agent's response needs of it."""

    review: Review
    submitted_at: datetime
    generated: GeneratedReview


class Timeline:
    """When each step of a review really happened. The services record the present; the seed
    notes each step's moment here, and :meth:`apply` moves the reviews' times and their audit
    events there in two bulk updates."""

    def __init__(self) -> None:
        self.events: dict[int, dict[str, list[datetime]]] = {}
        self.columns: dict[int, dict[str, datetime]] = {}

    def add(self, review: Review, action: str, at: datetime, **columns: datetime) -> None:
        """The review's ``action`` event happened ``at``; ``columns`` are the review's times
        after it (``created_at``, ``submitted_at``, ``updated_at``, ``acknowledged_at``)."""
        self.events.setdefault(review.id, {}).setdefault(action, []).append(at)
        self.columns.setdefault(review.id, {}).update(columns)

    def apply(self, session: Session) -> None:
        if not self.events:
            return
        session.flush()
        rows = session.execute(
            select(ReviewEvent.id, ReviewEvent.review_id, ReviewEvent.action)
            .where(ReviewEvent.review_id.in_(list(self.events)))
            .order_by(ReviewEvent.id)
        )
        moved = []
        for event_id, review_id, action in rows:
            moments = self.events[review_id].get(action)
            if moments:
                moved.append({"id": event_id, "at": moments.pop(0)})
        if moved:
            session.execute(update(ReviewEvent), moved)
        times = [{"id": key, **columns} for key, columns in self.columns.items() if columns]
        if times:
            session.execute(update(Review), times)
        session.expire_all()  # the bulk updates bypassed the loaded objects


@dataclass
class Context:
    """What every step of the seed needs."""

    session: Session
    version: ScorecardVersion
    criteria: list[Criterion]
    seed: int
    now: datetime
    timeline: Timeline = field(default_factory=Timeline)
    loaded: list[Conversation] = field(default_factory=list)  # the run's, see `_run`

    def before_now(self, moment: datetime) -> datetime:
        """``moment``, or just before now when it would be in the future."""
        return min(moment, self.now - timedelta(minutes=5))


def _reviewers(session: Session) -> list[User]:
    """The in-house QA specialists, and each partner's first QA (``<partner>.qa@``)."""
    in_house = [find_user_by_email(session, email) for email in IN_HOUSE_REVIEWERS]
    partner_qa = session.scalars(
        select(User)
        .where(User.role == Role.PARTNER_QA, User.email.like(f"%.qa@{DEMO_DOMAIN}"))
        .order_by(User.email)
    )
    return [user for user in (*in_house, *partner_qa) if user is not None]


def _plan(
    session: Session, scorecard: Scorecard, manager: User, reviewers: Sequence[User], seed: int
) -> SamplingPlan:
    existing = session.scalars(select(SamplingPlan).where(SamplingPlan.name == PLAN_NAME)).first()
    if existing is not None:
        return existing
    return sampling.save_plan(
        session,
        None,
        sampling.PlanInput(
            name=PLAN_NAME,
            scorecard_id=scorecard.id,
            strategy=Strategy.QUOTA,
            params={"per_agent": 1},
            seed=seed,
            reviewer_ids=[reviewer.id for reviewer in reviewers],
            due_days=DUE_DAYS,
        ),
        by=manager,
    )


def demo_weeks(session: Session) -> list[Period]:
    """The ISO weeks to sample, oldest first: the data's last ``PAST_WEEKS`` + 1 weeks."""
    last = session.scalar(select(func.max(Conversation.started_at)))
    if last is None:
        return []
    newest = week_of(last.date())
    return [
        week_of((newest.start - timedelta(weeks=back)).date()) for back in range(PAST_WEEKS, -1, -1)
    ]


def conversation_facts(session: Session, conversations: Sequence[Conversation]) -> dict[int, Facts]:
    """The review rule's facts of every conversation, in two queries."""
    ids = [conversation.id for conversation in conversations]
    tags: dict[int, set[str]] = {}
    for conversation_id, tag in session.execute(
        select(ConversationTag.conversation_id, ConversationTag.tag).where(
            ConversationTag.conversation_id.in_(ids)
        )
    ):
        tags.setdefault(conversation_id, set()).add(tag)
    written = dict(
        session.execute(
            select(Message.conversation_id, func.count())
            .where(Message.conversation_id.in_(ids), Message.speaker == "agent")
            .group_by(Message.conversation_id)
        ).all()
    )
    return {
        conversation.id: Facts(
            channel=conversation.channel,
            csat=conversation.csat,
            handle_seconds=conversation.handle_time_seconds,
            messages=conversation.message_count,
            agent_messages=written.get(conversation.id, 0),
            tags=frozenset(tags.get(conversation.id, ())),
        )
        for conversation in conversations
    }


def _skill(seed: int, conversation: Conversation) -> float:
    """The agent's skill, -1 to 1: the same for all of an agent's conversations."""
    agent = conversation.agent.external_id if conversation.agent else "none"
    return random.Random(f"demo-skill:{seed}:{agent}").uniform(-1.0, 1.0)


def generated_review(context: Context, conversation: Conversation, facts: Facts) -> GeneratedReview:
    rng = random.Random(
        f"demo-review:{context.seed}:{conversation.source}:{conversation.external_id}"
    )
    skill = _skill(context.seed, conversation)
    return generate_review(facts, context.criteria, rng, skill=skill)


def _run(
    context: Context, plan: SamplingPlan, period: Period, manager: User, run_at: datetime
) -> tuple[SamplingRun, list[ReviewAssignment]] | None:
    """Run the plan for ``period`` as it ran at ``run_at``; None if it has run already."""
    session = context.session
    if sampling.find_run(session, plan, period) is not None:
        return None
    run = sampling.run_plan(session, plan, period, by=manager, now=run_at)
    run.created_at = run_at
    # No eager loading on the assignments: the services re-read them FOR UPDATE, which
    # PostgreSQL refuses across outer joins. Their conversations (with team and agent) are
    # loaded once instead, and the reviewers are loaded already: reaching them costs no query.
    assignments = list(
        session.scalars(
            select(ReviewAssignment)
            .where(ReviewAssignment.run_id == run.id)
            .order_by(ReviewAssignment.id)
        )
    )
    context.loaded = list(
        session.scalars(
            select(Conversation)
            .where(Conversation.id.in_([assignment.conversation_id for assignment in assignments]))
            .options(joinedload(Conversation.team), joinedload(Conversation.agent))
        )
    )  # held, as the session keeps only what is referenced
    for assignment in assignments:
        assignment.created_at = run_at
    session.flush()  # before the services re-read the assignments under a lock
    return run, assignments


def _schedule(
    assignments: Sequence[ReviewAssignment], monday: datetime, rng: random.Random
) -> list[tuple[ReviewAssignment, datetime, datetime]]:
    """Each assignment with when its review was started and submitted: every reviewer works
    through their own, a few a day from Monday to Thursday."""
    by_reviewer: dict[int, list[ReviewAssignment]] = {}
    for assignment in assignments:
        if assignment.reviewer_id is not None:
            by_reviewer.setdefault(assignment.reviewer_id, []).append(assignment)
    planned = []
    for mine in by_reviewer.values():
        per_day = math.ceil(len(mine) / REVIEW_DAYS)
        gap = timedelta(hours=7) / per_day
        for position, assignment in enumerate(mine):
            day, slot = divmod(position, per_day)
            started = (
                monday.replace(hour=9, minute=0)
                + timedelta(days=day)
                + slot * gap
                + timedelta(minutes=rng.randrange(40))
            )
            planned.append((assignment, started, started + timedelta(minutes=rng.randint(6, 18))))
    return sorted(planned, key=lambda item: item[1])


def _review(
    context: Context,
    assignment: ReviewAssignment,
    facts: Facts,
    started: datetime,
    submitted: datetime,
) -> Reviewed:
    """Review an assignment as its reviewer: start, save every answer, submit."""
    session, reviewer = context.session, assignment.reviewer
    assert reviewer is not None  # only assigned ones are scheduled
    conversation = assignment.conversation
    review = reviews.start_review(
        session, conversation, reviewer, assignment=assignment, version=context.version
    )
    generated = generated_review(context, conversation, facts)
    answers = {criterion.id: generated.answers[criterion.key] for criterion in context.criteria}
    reviews.save_draft(session, review, answers, generated.overall_comment, by=reviewer)
    reviews.submit_review(session, review, by=reviewer)
    timeline = context.timeline
    timeline.add(review, "created", started, created_at=started)
    timeline.add(review, "saved", submitted - timedelta(seconds=40))
    timeline.add(review, "submitted", submitted, submitted_at=submitted, updated_at=submitted)
    return Reviewed(review, submitted, generated)


def _review_week(
    context: Context, assignments: Sequence[ReviewAssignment], run_at: datetime
) -> list[Reviewed]:
    facts = conversation_facts(
        context.session, [assignment.conversation for assignment in assignments]
    )
    rng = random.Random(f"demo-schedule:{context.seed}:{run_at:%G-W%V}")
    return [
        _review(context, assignment, facts[assignment.conversation_id], started, submitted)
        for assignment, started, submitted in _schedule(assignments, run_at, rng)
    ]


def _start_draft(
    context: Context, assignments: Sequence[ReviewAssignment], reviewer: User, at: datetime
) -> int:
    """The reviewer has begun the first of this week's assignments: a few answers saved."""
    mine = [assignment for assignment in assignments if assignment.reviewer_id == reviewer.id]
    if not mine:
        return 0
    assignment = mine[0]
    session = context.session
    review = reviews.start_review(
        session, assignment.conversation, reviewer, assignment=assignment, version=context.version
    )
    facts = conversation_facts(session, [assignment.conversation])[assignment.conversation_id]
    generated = generated_review(context, assignment.conversation, facts)
    answers = {
        criterion.id: generated.answers[criterion.key]
        for criterion in context.criteria[:DRAFTED_ANSWERS]
    }
    reviews.save_draft(session, review, answers, None, by=reviewer)
    saved = at + timedelta(minutes=4)
    context.timeline.add(review, "created", at, created_at=at)
    context.timeline.add(review, "saved", saved, updated_at=saved)
    return 1


def seed_demo_reviews(
    session: Session, *, seed: int = PLAN_SEED, now: datetime | None = None
) -> ReviewsReport:
    """Run the demo plan over the past weeks and review what it sampled; sample this week's
    assignments; the demo agent acknowledges and disputes. Return what was added.

    Needs the demo users, conversations and scorecard. Flushes; the caller commits.
    """
    from qa_app.demo.disputes import respond_as_agent
    from qa_app.demo.scorecard import seed_default_scorecard
    from qa_app.scorecards.services import published_version

    report = ReviewsReport()
    manager = find_user_by_email(session, MANAGER)
    reviewers = _reviewers(session)
    weeks = demo_weeks(session)
    if manager is None or not reviewers or not weeks:
        return report
    scorecard = seed_default_scorecard(session)
    version = published_version(session, scorecard.id)
    plan = _plan(session, scorecard, manager, reviewers, seed)
    if version is None or not plan.is_active:
        return report
    context = Context(session, version, ordered_criteria(version), seed, now or utcnow())
    this_monday = current_week(context.now).start
    reviewed: list[Reviewed] = []
    *past, latest = weeks
    for back, period in zip(range(len(past), 0, -1), past, strict=True):
        run_at = this_monday - timedelta(weeks=back) + timedelta(hours=RUN_HOUR)
        run_at = max(run_at, period.end + timedelta(hours=RUN_HOUR))
        made = _run(context, plan, period, manager, run_at)
        if made is not None:
            report.weeks += 1
            reviewed += _review_week(context, made[1], run_at)
    report.reviews = len(reviewed)
    respond_as_agent(context, reviewed, manager, report)
    run_at = context.before_now(max(this_monday, latest.end) + timedelta(hours=RUN_HOUR))
    made = _run(context, plan, latest, manager, run_at)
    if made is not None:
        report.assignments_open = len(made[1])
        drafter = next((user for user in reviewers if user.email == DRAFTED_BY), reviewers[0])
        started = context.before_now(run_at + timedelta(hours=3))
        report.drafts = _start_draft(context, made[1], drafter, started)
    context.timeline.apply(session)
    return report
