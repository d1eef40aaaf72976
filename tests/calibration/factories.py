"""Calibration sessions for the view and permission tests, built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.calibration import services
from qa_app.calibration.models import CalibrationRating, CalibrationSession
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.org.roles import Role
from tests.conftest import Factory
from tests.reviews.factories import PERFECT, Card, published_scorecard


@dataclass
class CalibrationWorld:
    """A blind session on in-house conversations, rated by an in-house QA specialist and one
    partner QA each of Northwind and Lumen; the manager facilitates. Acme has no rater."""

    card: Card
    calibration: CalibrationSession
    conversations: list[Conversation]
    users: dict[str, User]

    @property
    def raters(self) -> list[User]:
        return [self.users["qa"], self.users["northwind_qa"], self.users["lumen_qa"]]


def calibration_world(db: Session, make: Factory) -> CalibrationWorld:
    northwind = make.partner("Northwind")
    lumen = make.partner("Lumen")
    acme = make.partner("Acme")
    agent = make.agent(make.team("Tier 1"), name="Sam")
    users = {
        "admin": make.user(Role.ADMIN),
        "manager": make.user(Role.MANAGER),
        "qa": make.user(Role.QA_SPECIALIST),
        "other_qa": make.user(Role.QA_SPECIALIST),
        "northwind_qa": make.user(Role.PARTNER_QA, partner=northwind),
        "lumen_qa": make.user(Role.PARTNER_QA, partner=lumen),
        "northwind_viewer": make.user(Role.PARTNER_VIEWER, partner=northwind),
        "acme_viewer": make.user(Role.PARTNER_VIEWER, partner=acme),
        "acme_qa": make.user(Role.PARTNER_QA, partner=acme),
        "agent": make.user(Role.AGENT, agent=agent),
    }
    conversations = [
        make.conversation(agent, messages=[("customer", f"Question number {n}.")])
        for n in range(1, 3)
    ]
    card = published_scorecard(db, name="Calibration scorecard")
    calibration = services.create_session(
        db,
        services.SessionInput(
            title="November calibration",
            scorecard_version_id=card.version.id,
            conversation_ids=[conversation.id for conversation in conversations],
            rater_ids=[users[key].id for key in ("qa", "northwind_qa", "lumen_qa")],
            due_at=utcnow() + timedelta(days=7),
            instructions="Mind the identity check.",
        ),
        by=users["manager"],
    )
    db.commit()
    return CalibrationWorld(card, calibration, conversations, users)


def rate(
    db: Session,
    world: CalibrationWorld,
    rater: User,
    conversation: Conversation,
    values: dict[str, Any] | None = None,
    *,
    comments: dict[str, str] | None = None,
    submit: bool = True,
) -> CalibrationRating:
    """A rating saved (and by default submitted) through the services, committed."""
    rating = services.save_rating(
        db,
        world.calibration,
        conversation.id,
        world.card.answers(values or PERFECT, comments),
        by=rater,
        submit=submit,
    )
    db.commit()
    return rating


def permission_world(make: Factory, conversation: Conversation, users: dict[str, Any]) -> dict:
    """Objects for the route-permission world: a revealed session on the world's conversation
    (partner A's), rated by the world's manager, QA specialist and partner QA (partner A), with
    a decision on a criterion. Every role but agents can see it; the raters can rate in it."""
    session = make.session
    card = published_scorecard(session, name="Calibration world scorecard")
    raters = [users["manager"], users["qa_specialist"], users["partner_qa"]]
    calibration = services.create_session(
        session,
        services.SessionInput(
            title="World calibration",
            scorecard_version_id=card.version.id,
            conversation_ids=[conversation.id],
            rater_ids=[rater.id for rater in raters],
            due_at=utcnow() + timedelta(days=7),
        ),
        by=users["admin"],
    )
    for rater in raters:
        services.save_rating(
            session, calibration, conversation.id, card.answers(PERFECT), by=rater, submit=True
        )
    services.reveal(session, calibration, by=users["admin"])
    note = services.add_note(
        session,
        calibration,
        "Greeting by name is required.",
        by=users["admin"],
        criterion_id=card.criteria["greeting"].id,
        is_decision=True,
    )
    session.commit()
    return {"session_id": calibration.id, "note_id": note.id}
