"""The demo agent's side of the seeded reviews: acknowledgements and disputes, and how the
manager decided them.

Only the agent whose conversation was reviewed acknowledges or disputes it, and the demo has one
agent with a login (``agent@``), so these are hers: the older reviews acknowledged, her two
weakest reviews disputed and decided (one re-scored in her favour, one upheld), the
second-newest disputed and waiting for the manager, the newest still to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from qa_app.auth.models import User
from qa_app.demo.answers import improved_answer
from qa_app.demo.comments import (
    DEFAULT_DISPUTE_REASON,
    DISPUTE_REASONS,
    FOCUS,
    RESCORED_COMMENT,
    RESCORED_NOTE,
    UPHELD_NOTE,
)
from qa_app.demo.seed import DEMO_DOMAIN
from qa_app.reviews import services as reviews
from qa_app.reviews.models import DisputeOutcome

if TYPE_CHECKING:
    from qa_app.demo.reviews import Context, Reviewed, ReviewsReport

AGENT = f"agent@{DEMO_DOMAIN}"


def _disputed_key(reviewed: Reviewed) -> str | None:
    """The criterion the agent disputes: the first one the reviewer marked down for something
    the conversation shows, else the first one marked down at all."""
    reasons = reviewed.generated.reasons
    concrete = (key for key, reason in reasons.items() if reason != "off_day")
    return next(concrete, next(iter(reasons), None))


def _dispute(
    context: Context, reviewed: Reviewed, agent: User, at: datetime
) -> tuple[str, datetime]:
    key = _disputed_key(reviewed) or ""
    raised = context.before_now(at)
    reviews.dispute(
        context.session, reviewed.review, DISPUTE_REASONS.get(key, DEFAULT_DISPUTE_REASON), by=agent
    )
    reviewed.review.disputes[-1].raised_at = raised
    context.timeline.add(reviewed.review, "disputed", raised, updated_at=raised)
    return key, raised


def _resolve(
    context: Context,
    reviewed: Reviewed,
    manager: User,
    key: str,
    at: datetime,
    *,
    rescore: bool,
) -> datetime:
    review = reviewed.review
    resolved = context.before_now(at)
    if rescore:
        criterion = next(c for c in context.criteria if c.key == key)
        value = reviewed.generated.answers[key][0]
        new = {criterion.id: (improved_answer(criterion, value), RESCORED_COMMENT)}
        reviews.resolve_dispute(
            context.session, review, DisputeOutcome.RESCORED, RESCORED_NOTE, new, by=manager
        )
        context.timeline.add(review, "rescored", resolved, updated_at=resolved)
    else:
        note = UPHELD_NOTE.format(focus=FOCUS[reviewed.generated.reasons[key]])
        reviews.resolve_dispute(context.session, review, DisputeOutcome.UPHELD, note, by=manager)
        context.timeline.add(review, "resolved_upheld", resolved, updated_at=resolved)
    review.disputes[-1].resolved_at = resolved
    return resolved


def _acknowledge(context: Context, reviewed: Reviewed, agent: User, at: datetime) -> None:
    moment = context.before_now(at)
    reviews.acknowledge(context.session, reviewed.review, by=agent)
    context.timeline.add(
        reviewed.review, "acknowledged", moment, acknowledged_at=moment, updated_at=moment
    )


def _morning_after(moment: datetime, days: int = 1, hour: int = 10) -> datetime:
    return (moment + timedelta(days=days)).replace(hour=hour, minute=12)


def respond_as_agent(
    context: Context, reviewed: Sequence[Reviewed], manager: User, report: ReviewsReport
) -> None:
    """The demo agent's acknowledgements and disputes of the seeded reviews of her work."""
    from qa_app.auth.services import find_user_by_email

    agent = find_user_by_email(context.session, AGENT)
    if agent is None or agent.agent_id is None:
        return
    mine = sorted(
        (item for item in reviewed if item.review.agent_id == agent.agent_id),
        key=lambda item: item.submitted_at,
    )
    if len(mine) < 2:
        return
    *older, waiting, _unread = mine
    disputable = [item for item in older if _disputed_key(item) is not None]
    weakest = sorted(disputable, key=lambda item: (item.review.score or 0.0, item.review.id))[:2]
    outcomes = dict(zip((item.review.id for item in weakest), (True, False), strict=False))
    for item in older:
        if item.review.id in outcomes:
            key, raised = _dispute(context, item, agent, _morning_after(item.submitted_at))
            rescore = outcomes[item.review.id]
            resolved = _resolve(
                context, item, manager, key, _morning_after(raised, 2, 15), rescore=rescore
            )
            report.disputes_resolved += 1
            if rescore:  # the new score accepted
                _acknowledge(context, item, agent, _morning_after(resolved))
                report.acknowledged += 1
        else:
            _acknowledge(context, item, agent, _morning_after(item.submitted_at))
            report.acknowledged += 1
    if _disputed_key(waiting) is not None:
        _dispute(context, waiting, agent, _morning_after(waiting.submitted_at))
        report.disputes_open += 1
    else:
        _acknowledge(context, waiting, agent, _morning_after(waiting.submitted_at))
        report.acknowledged += 1
