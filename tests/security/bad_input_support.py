"""What the bad-input tests share: row counts (nothing written), tokens, a small world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import Model
from qa_app.org.roles import Role
from qa_app.sampling import services as sampling_services
from qa_app.sampling.models import ReviewAssignment
from qa_app.untrusted import MAX_ID
from tests.conftest import Factory
from tests.reviews.factories import Card, published_scorecard
from tests.sampling.factories import WEEK, make_plan

NUL = "\x00"
HUGE = "99999999999999999999"  # past 64 bits
JUST_PAST = str(MAX_ID + 1)  # past PostgreSQL's integer
DEEP = "[" * 50_000 + "]" * 50_000


def row_counts(db: Session) -> dict[str, int]:
    """Rows per table: equal before and after means nothing was written."""
    db.expire_all()
    return {
        table.name: db.scalar(select(func.count()).select_from(table)) or 0
        for table in Model.metadata.sorted_tables
    }


@dataclass
class World:
    admin: User
    qa: User
    card: Card
    conversation: Conversation
    assignment_id: int


def make_world(db: Session, make: Factory) -> World:
    """A QA specialist with one open assignment of a published scorecard's plan; an admin."""
    agent = make.agent(make.team("Tier 1"), name="Sam")
    conversation = make.conversation(agent, started_at=WEEK.start + timedelta(hours=2))
    admin, qa = make.user(Role.ADMIN), make.user(Role.QA_SPECIALIST)
    card = published_scorecard(db, "Chat quality")
    plan = make_plan(db, card, "All chats", [qa], 1)
    sampling_services.run_plan(db, plan, WEEK)
    db.commit()
    assignment_id = db.scalar(select(ReviewAssignment.id))
    assert assignment_id is not None
    return World(admin, qa, card, conversation, assignment_id)
