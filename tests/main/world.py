"""An organisation in use for the dashboard tests: queues, reviews, a dispute, three partners' worth
of figures that differ, so a figure on the wrong dashboard is caught by its value."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.db import utcnow
from qa_app.org.models import Agent
from qa_app.org.roles import Role
from qa_app.reviews import services
from qa_app.reviews.models import Dispute, Review
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from qa_app.sampling.periods import current_week
from tests.conftest import Factory
from tests.reviews.factories import Card, assignment, published_scorecard, scored_review

LUMEN_SCORE = 33.3  # Lumen's reviews all score this: no other figure of the world shows "33.3"


def days_ago(days: float) -> datetime:
    return utcnow() - timedelta(days=days)


def due_this_week() -> datetime:
    """Halfway between now and the end of the ISO week: due this week whenever the test runs."""
    now = utcnow()
    return now + (current_week(now).end - now) / 2


def after_this_week() -> datetime:
    return current_week(utcnow()).end + timedelta(days=2)


@dataclass
class Office:
    card: Card
    agents: dict[str, Agent]
    users: dict[str, User]
    disputed: Review
    dispute: Dispute


def office(db: Session, make: Factory) -> Office:
    """In-house agent Sam, Northwind's Maya, Lumen's Leo; users of every role.

    qa: five open assignments of Sam's conversations (two due this week, one of them started,
    one overdue, one due next week, one undated), one done and one skipped; two drafts.
    Unassigned: one in-house, one Northwind, one Lumen. Northwind QA: one due this week.
    Lumen QA: two overdue.

    Reviews of the last 30 days: Sam 80, 90 and a disputed one (qa); Maya 70 (Northwind QA);
    Leo 33.3 twice (Lumen QA). Older: Sam 40 (60 days), Maya 50 (40 days). The dispute was
    raised 4 days ago.
    """
    northwind = make.partner("Northwind BPO")
    lumen = make.partner("Lumen Outsourcing")
    agents = {
        "sam": make.agent(make.team("Tier 1 Chat"), name="Sam Inhouse"),
        "maya": make.agent(make.team("Northwind Overflow", northwind), name="Maya Northwind"),
        "leo": make.agent(make.team("Lumen After-hours", lumen), name="Leo Lumenson"),
    }
    users = {
        "admin": make.user(Role.ADMIN),
        "manager": make.user(Role.MANAGER),
        "qa": make.user(Role.QA_SPECIALIST),
        "northwind_qa": make.user(Role.PARTNER_QA, partner=northwind),
        "lumen_qa": make.user(Role.PARTNER_QA, partner=lumen),
        "northwind_viewer": make.user(Role.PARTNER_VIEWER, partner=northwind),
        "lumen_viewer": make.user(Role.PARTNER_VIEWER, partner=lumen),
        "sam": make.user(Role.AGENT, agent=agents["sam"]),
        "maya": make.user(Role.AGENT, agent=agents["maya"]),
    }
    card = published_scorecard(db)
    sam, maya, leo = agents["sam"], agents["maya"], agents["leo"]
    qa = users["qa"]

    def assign(
        agent: Agent,
        reviewer: User | None,
        due: datetime | None,
        status: AssignmentStatus = AssignmentStatus.OPEN,
    ) -> ReviewAssignment:
        return assignment(db, make.conversation(agent), card, reviewer, due_at=due, status=status)

    started = assign(sam, qa, due_this_week())
    assign(sam, qa, due_this_week())
    assign(sam, qa, days_ago(1))
    assign(sam, qa, after_this_week())
    assign(sam, qa, None)
    assign(sam, qa, days_ago(3), status=AssignmentStatus.DONE)
    assign(sam, qa, days_ago(3), status=AssignmentStatus.SKIPPED)
    for agent in (sam, maya, leo):
        assign(agent, None, due_this_week())
    assign(maya, users["northwind_qa"], due_this_week())
    assign(leo, users["lumen_qa"], days_ago(2))
    assign(leo, users["lumen_qa"], days_ago(2))
    services.start_review(db, started.conversation, qa, assignment=started)
    services.start_review(db, make.conversation(sam), qa, version=card.version)
    db.commit()

    for score, age in ((80, 10), (90, 5), (40, 60)):
        scored_review(db, card, make.conversation(sam), qa, score, submitted_at=days_ago(age))
    disputed = scored_review(db, card, make.conversation(sam), qa, 20, submitted_at=days_ago(2))
    dispute = services.dispute(db, disputed, "The customer was greeted.", by=users["sam"])
    dispute.raised_at = days_ago(4)
    for score, age in ((70, 3), (50, 40)):
        scored_review(
            db,
            card,
            make.conversation(maya),
            users["northwind_qa"],
            score,
            submitted_at=days_ago(age),
        )
    for age in (1, 2):
        scored_review(
            db,
            card,
            make.conversation(leo),
            users["lumen_qa"],
            LUMEN_SCORE,
            submitted_at=days_ago(age),
        )
    db.commit()
    return Office(card, agents, users, disputed, dispute)


def figure(html: str, key: str) -> str:
    """The text of the element with ``data-testid=key``, nested elements included (tags
    stripped, spaces collapsed)."""
    opening = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(key)}"[^>]*>', html)
    assert opening, f"no {key} on the page"
    name, depth, position = opening[1], 1, opening.end()
    for tag in re.compile(rf"<(/?){name}\b[^>]*>").finditer(html, position):
        depth += -1 if tag[1] else 1
        if depth == 0:
            inner = html[position : tag.start()]
            return " ".join(re.sub(r"<[^>]+>", " ", inner).split())
    raise AssertionError(f"{key} is not closed")
