"""The seeded demo is in use: reviews, disputes, this week's assignments and a session to reveal,
obeying the app's rules, and every role finds its work after logging in.

The whole demo is seeded once, in one test: it takes seconds.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from qa_app.auth.models import User
from qa_app.calibration.models import CalibrationSession
from qa_app.calibration.services import reveal_refusal
from qa_app.demo.calibration import READY_TITLE, seed_demo_calibration
from qa_app.demo.reviews import PLAN_NAME, seed_demo_reviews
from qa_app.demo.seed import DEMO_DOMAIN, DEMO_PASSWORD
from qa_app.org.models import Team
from qa_app.org.roles import Role
from qa_app.reviews.models import Dispute, Review, ReviewEvent, ReviewStatus
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment, SamplingRun
from qa_app.sampling.periods import current_week

COUNTED = (Review, ReviewEvent, Dispute, ReviewAssignment, SamplingRun, CalibrationSession)


def _counts(db: Session) -> tuple[int, ...]:
    return tuple(db.scalar(select(func.count()).select_from(model)) or 0 for model in COUNTED)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _user(db: Session, name: str) -> User:
    return db.scalars(select(User).where(User.email == f"{name}@{DEMO_DOMAIN}")).one()


def _page(app: Flask, name: str, path: str) -> str:
    client = app.test_client()
    response = client.post(
        "/login", data={"email": f"{name}@{DEMO_DOMAIN}", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302, name
    page = client.get(path)
    assert page.status_code == 200, (name, path)
    return page.get_data(as_text=True)


def _statuses(page: str) -> Counter[str]:
    """The review statuses a review list shows, counted."""
    return Counter(re.findall(r'data-testid="review-status">(\w+)<', page))


def test_the_seeded_demo_has_reviews_disputes_and_work_due_for_every_role(
    app: Flask, runner: Any, db: Session
) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert f"Demo calibration: {READY_TITLE} (open)." in result.output
    line = next(line for line in result.output.splitlines() if line.startswith("Demo reviews:"))
    now = datetime.now(UTC)

    # Eight past weeks reviewed, one per agent and week, by the QA specialists and partner QA.
    reviews = db.scalars(
        select(Review).options(selectinload(Review.conversation), selectinload(Review.answers))
    ).all()
    submitted = [review for review in reviews if review.status != ReviewStatus.DRAFT]
    assert len(submitted) >= 8 * 24
    assert line.startswith(f"Demo reviews: {len(submitted)} reviews over 8 weeks")
    by_reviewer = Counter(review.reviewer.email.split("@")[0] for review in submitted)
    for review in submitted:
        assert review.score is not None
        assert review.overall_comment
        assert _aware(review.submitted_at) < now  # type: ignore[arg-type]
        assert review.conversation.started_at < review.submitted_at  # type: ignore[operator]
    assert set(by_reviewer) == {"qa", "qa2", "northwind.qa", "lumen.qa"}
    assert min(by_reviewer.values()) >= 30
    scores = sorted(review.score or 0.0 for review in submitted)
    assert 70 < sum(scores) / len(scores) < 95  # a believable spread, some fails among them
    assert scores[0] < 50 < scores[-1]
    comments = {answer.comment for review in submitted for answer in review.answers}
    assert len(comments) > 40  # short comments that vary

    # Partner QA reviewed only their own partner's conversations; in-house QA no partner's.
    partner_of = dict(db.execute(select(Team.id, Team.partner_id)).all())
    for review in submitted:
        reviewer = review.reviewer
        owner = partner_of[review.team_id] if review.team_id is not None else None
        if reviewer.role == Role.PARTNER_QA:
            assert owner == reviewer.partner_id, reviewer.email
        else:
            assert owner is None, reviewer.email

    # The demo agent has acknowledged, disputed (one decision each way) and has one to read.
    agent = _user(db, "agent")
    hers = {review.status for review in submitted if review.agent_id == agent.agent_id}
    assert hers >= {
        ReviewStatus.ACKNOWLEDGED,
        ReviewStatus.DISPUTED,
        ReviewStatus.RESOLVED,
        ReviewStatus.SUBMITTED,
    }
    disputes = db.scalars(select(Dispute)).all()
    assert len([d for d in disputes if d.outcome is None]) == 1
    assert {d.outcome.value for d in disputes if d.outcome is not None} == {"upheld", "rescored"}
    for dispute in disputes:
        assert dispute.raised_by_id == agent.id
        assert _aware(dispute.raised_at) < now
        if dispute.outcome is not None:
            assert dispute.resolved_by.email == f"manager@{DEMO_DOMAIN}"  # type: ignore[union-attr]
            assert dispute.resolution_note
    # The audit trail tells the same story, at the same moments.
    events = db.scalars(select(ReviewEvent)).all()
    assert {event.action for event in events} >= {"created", "saved", "submitted", "disputed"}
    assert all(_aware(event.at) < now for event in events)

    # This week's assignments: open (one started), due this week, for QA and partner QA.
    week = current_week(now)
    latest_run = db.scalars(select(SamplingRun).order_by(SamplingRun.id.desc())).first()
    assert latest_run is not None
    assert latest_run.plan.name == PLAN_NAME
    due = db.scalars(select(ReviewAssignment).where(ReviewAssignment.run_id == latest_run.id)).all()
    assert len(due) > 20
    assert f"{len(due)} assignments due this week (1 started)" in line
    assert {a.status for a in due} == {AssignmentStatus.OPEN, AssignmentStatus.IN_PROGRESS}
    assert all(week.start <= _aware(a.due_at) < week.end for a in due)  # type: ignore[arg-type]
    owners = {a.reviewer.email.split("@")[0] for a in due if a.reviewer is not None}
    assert owners == {"qa", "qa2", "northwind.qa", "lumen.qa"}
    past = db.scalars(
        select(ReviewAssignment).where(ReviewAssignment.run_id != latest_run.id)
    ).all()
    assert {a.status for a in past} == {AssignmentStatus.DONE}

    # A calibration session with every rating in, ready for its facilitator to reveal.
    ready = db.scalars(
        select(CalibrationSession).where(CalibrationSession.title == READY_TITLE)
    ).one()
    assert ready.is_blind
    assert _aware(ready.due_at) > now
    assert reveal_refusal(db, ready) is None

    # Every role's pages show that work.
    queue = _page(app, "qa", "/reviews/queue")
    assert queue.count("Start review") >= 4
    assert "Continue" in queue
    partner_queue = _page(app, "northwind.qa", "/reviews/queue")
    assert "Northwind Overflow" in partner_queue
    assert "Lumen After-hours" not in partner_queue
    assert set(_statuses(_page(app, "agent", "/reviews/"))) == {
        "acknowledged",
        "disputed",
        "resolved",
        "submitted",
    }
    assert _statuses(_page(app, "manager", "/reviews/?status=disputed")) == {"disputed": 1}
    partner_reviews = _page(app, "lumen.viewer", "/reviews/")
    assert "Lumen After-hours" in partner_reviews
    assert "Northwind Overflow" not in partner_reviews
    assert READY_TITLE in _page(app, "manager", "/calibration/")

    # Seeding again adds nothing.
    before = _counts(db)
    assert seed_demo_calibration(db) == []
    assert seed_demo_reviews(db).summary() == "nothing new"
    db.commit()
    assert _counts(db) == before
