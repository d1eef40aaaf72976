"""Fixtures for the sampling tests: a scorecard, plans, and conversations inserted in bulk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from qa_app.conversations.models import Conversation, ConversationTag
from qa_app.org.models import Agent
from qa_app.sampling import services
from qa_app.sampling.models import SamplingPlan, Strategy
from qa_app.sampling.periods import parse_period
from qa_app.scorecards.models import Scorecard

WEEK = parse_period("2026-W40")  # Monday 2026-09-28 to Monday 2026-10-05, UTC


@pytest.fixture
def scorecard(db: Session) -> Scorecard:
    card = Scorecard(name="Chat quality")
    db.add(card)
    db.commit()
    return card


PlanMaker = Callable[..., SamplingPlan]


@pytest.fixture
def make_plan(db: Session, scorecard: Scorecard) -> PlanMaker:
    """Save a plan through the service (defaults: uniform, 10 per period, no reviewers)."""
    counter = iter(range(1, 10_000))

    def _make(**fields: Any) -> SamplingPlan:
        reviewers = fields.pop("reviewers", [])
        values: dict[str, Any] = {
            "name": f"Plan {next(counter)}",
            "scorecard_id": scorecard.id,
            "strategy": Strategy.UNIFORM,
            "params": {"size": 10},
            "seed": 42,
            "reviewer_ids": [user.id for user in reviewers],
        }
        values.update(fields)
        plan = services.save_plan(db, None, services.PlanInput(**values))
        db.commit()
        return plan

    return _make


BulkMaker = Callable[..., list[int]]


@pytest.fixture
def bulk(db: Session) -> BulkMaker:
    """Insert ``count`` conversations in one statement; returns their ids in order.

    They start ``step`` apart from ``start`` (default: the test week's Monday); ``tags`` are
    given to every one of them; other keyword arguments become column values.
    """
    counter = iter(range(1, 10_000_000))

    def _bulk(
        count: int,
        agent: Agent | None = None,
        *,
        start: datetime = WEEK.start,
        step: timedelta = timedelta(minutes=1),
        tags: tuple[str, ...] = (),
        **fields: Any,
    ) -> list[int]:
        if count == 0:
            return []
        rows = []
        for index in range(count):
            number = next(counter)
            row: dict[str, Any] = {
                "source": "bulk",
                "external_id": f"b-{number}",
                "channel": "chat",
                "agent_id": agent.id if agent else None,
                "team_id": agent.team_id if agent else None,
                "started_at": start + step * index,
                "handle_time_seconds": 600,
                "content_hash": f"h-{number}",
            }
            row.update(fields)
            rows.append(row)
        stmt = insert(Conversation).returning(Conversation.id, sort_by_parameter_order=True)
        ids = list(db.scalars(stmt, rows))
        if tags:
            db.execute(
                insert(ConversationTag),
                [{"conversation_id": cid, "tag": tag} for cid in ids for tag in tags],
            )
        db.commit()
        return ids

    return _bulk
