"""The rules the dashboard counts in SQL agree with the feature rules they stand for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import case, select
from sqlalchemy.orm import Session

from qa_app.calibration import services as calibration
from qa_app.calibration.models import CalibrationSession
from qa_app.calibration.queries import ready_to_reveal
from qa_app.db import utcnow
from qa_app.org.roles import Role
from qa_app.reviews import services
from qa_app.reviews.models import DisputeOutcome, Review, ReviewStatus
from qa_app.reviews.queries import disputable
from tests.calibration.factories import calibration_world, rate
from tests.conftest import Factory
from tests.reviews.factories import MIXED, PERFECT, published_scorecard, submitted_review


def test_disputable_in_sql_agrees_with_may_dispute_in_every_state(
    db: Session, make: Factory
) -> None:
    card = published_scorecard(db)
    agent = make.agent()
    agent_user = make.user(Role.AGENT, agent=agent)
    qa, manager = make.user(Role.QA_SPECIALIST), make.user(Role.MANAGER)

    def review(values: dict[str, str] = PERFECT) -> Review:
        return submitted_review(db, card, make.conversation(agent), qa, values)

    def dispute(target: Review) -> None:
        services.dispute(db, target, "Look again.", by=agent_user)

    def decide(target: Review, outcome: DisputeOutcome, answers: dict[str, str] = MIXED) -> None:
        new = card.answers(answers) if outcome == DisputeOutcome.RESCORED else None
        services.resolve_dispute(db, target, outcome, "Decided.", new, by=manager)

    submitted, acknowledged, disputed = review(), review(), review()
    services.acknowledge(db, acknowledged, by=agent_user)
    dispute(disputed)
    upheld, rescored, rescored_then_upheld = review(), review(), review()
    for target in (upheld, rescored, rescored_then_upheld):
        dispute(target)
    decide(upheld, DisputeOutcome.UPHELD)
    decide(rescored, DisputeOutcome.RESCORED)
    decide(rescored_then_upheld, DisputeOutcome.RESCORED)
    dispute(rescored_then_upheld)
    decide(rescored_then_upheld, DisputeOutcome.UPHELD)
    draft = services.start_review(db, make.conversation(agent), qa, version=card.version)
    db.commit()

    in_sql = dict(db.execute(select(Review.id, case((disputable(), True), else_=False))).all())
    everyone = [submitted, acknowledged, disputed, upheld, rescored, rescored_then_upheld, draft]
    for target in everyone:
        db.refresh(target)
        assert bool(in_sql[target.id]) == services.may_dispute(target), target.status
    assert {target.id for target in everyone if in_sql[target.id]} == {submitted.id, rescored.id}
    assert rescored_then_upheld.status == ReviewStatus.RESOLVED


def test_ready_to_reveal_in_sql_agrees_with_reveal_refusal(db: Session, make: Factory) -> None:
    world = calibration_world(db, make)
    manager = world.users["manager"]

    def new_session(title: str) -> CalibrationSession:
        created = calibration.create_session(
            db,
            calibration.SessionInput(
                title=title,
                scorecard_version_id=world.card.version.id,
                conversation_ids=[conversation.id for conversation in world.conversations],
                rater_ids=[rater.id for rater in world.raters],
                due_at=utcnow() + timedelta(days=5),
            ),
            by=manager,
        )
        db.commit()
        world.calibration = created  # rate() rates in the world's session
        return created

    def rate_all(*, but_one_draft: bool = False) -> None:
        pairs = [(rater, item) for rater in world.raters for item in world.conversations]
        for number, (rater, conversation) in enumerate(pairs):
            rate(db, world, rater, conversation, submit=not (but_one_draft and number == 0))

    untouched = world.calibration
    complete = new_session("Complete")
    rate_all()
    one_draft = new_session("One draft left")
    rate_all(but_one_draft=True)
    benchmark_only = new_session("Benchmark only")
    calibration.save_benchmark(
        db, benchmark_only, world.conversations[0].id, world.card.answers(PERFECT), by=manager
    )
    past_due = new_session("Past due")
    revealed = new_session("Revealed")
    rate_all()
    calibration.reveal(db, revealed, by=manager)
    past_due.due_at = utcnow() - timedelta(minutes=5)
    db.commit()

    now = utcnow()
    in_sql = dict(
        db.execute(
            select(CalibrationSession.id, case((ready_to_reveal(now), True), else_=False))
        ).all()
    )
    sessions = [untouched, complete, one_draft, benchmark_only, past_due, revealed]
    for session in sessions:
        db.refresh(session)
        expected = calibration.reveal_refusal(db, session) is None
        assert bool(in_sql[session.id]) == expected, session.title
    assert {s.title for s in sessions if in_sql[s.id]} == {"Complete", "Past due"}
