"""Scorecards, assignments and reviews for the review tests, built directly as rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation
from qa_app.db import utcnow
from qa_app.org.models import Agent
from qa_app.org.roles import Role
from qa_app.reviews import services
from qa_app.reviews.models import Review, ReviewStatus
from qa_app.sampling.models import AssignmentStatus, ReviewAssignment
from qa_app.scorecards.models import (
    Criterion,
    Scorecard,
    ScorecardSection,
    ScorecardVersion,
    VersionStatus,
)
from qa_app.scorecards.scoring import CriterionKind, Critical
from tests.conftest import Factory

# The scorecard of these tests, weights in brackets:
#   Opening:    greeting     yes/no, N/A allowed         (1)
#   Resolution: empathy      scale 1-4 with labels       (2)
#               accuracy     points 0-3                  (2)
#               identity     yes/no, N/A allowed, critical: fails the review  (1)
PERFECT = {"greeting": "yes", "empathy": "4", "accuracy": "3", "identity": "yes"}
# greeting 0 + empathy 2/3*2 + accuracy 2/3*2 + identity 1 = 11/3 of 6 -> 61.11
MIXED = {"greeting": "no", "empathy": "3", "accuracy": "2", "identity": "yes"}
MIXED_SCORE = 61.11


@dataclass
class Card:
    scorecard: Scorecard
    version: ScorecardVersion
    criteria: dict[str, Criterion]

    def answers(self, values: dict[str, Any], comments: dict[str, str] | None = None) -> dict:
        """{criterion_id: (value, comment)} from values and comments keyed by criterion key."""
        comments = comments or {}
        keys = set(values) | set(comments)
        return {self.criteria[key].id: (values.get(key), comments.get(key, "")) for key in keys}


def published_scorecard(
    session: Session, name: str = "Support QA", *, scorecard: Scorecard | None = None
) -> Card:
    """A published scorecard, or (given ``scorecard``) a new published version of it."""
    if scorecard is None:
        scorecard = Scorecard(name=name)
    number = max((version.number for version in scorecard.versions), default=0) + 1
    version = ScorecardVersion(
        scorecard=scorecard,
        number=number,
        status=VersionStatus.PUBLISHED,
        published_at=datetime(2026, 9, 1, tzinfo=UTC),
    )
    opening = ScorecardSection(version=version, position=0, title="Opening")
    resolution = ScorecardSection(version=version, position=1, title="Resolution")
    specs: list[tuple[ScorecardSection, dict[str, Any]]] = [
        (
            opening,
            dict(
                key="greeting",
                title="Greets the customer",
                kind=CriterionKind.YES_NO,
                allow_na=True,
                guidance="Uses the customer's name.\nN/A when the customer opened with a bot.",
            ),
        ),
        (
            resolution,
            dict(
                key="empathy",
                title="Shows empathy",
                kind=CriterionKind.SCALE,
                weight=2.0,
                scale_max=4,
                scale_labels=["Poor", "Fair", "Good", "Excellent"],
            ),
        ),
        (
            resolution,
            dict(
                key="accuracy",
                title="Gives accurate information",
                kind=CriterionKind.POINTS,
                weight=2.0,
                max_points=3,
            ),
        ),
        (
            resolution,
            dict(
                key="identity",
                title="Verifies identity",
                kind=CriterionKind.YES_NO,
                allow_na=True,
                critical=Critical.REVIEW,
            ),
        ),
    ]
    criteria = {}
    for position, (section, fields) in enumerate(specs):
        criterion = Criterion(version=version, section=section, position=position, **fields)
        criteria[criterion.key] = criterion
    session.add(scorecard)
    session.commit()
    return Card(scorecard, version, criteria)


def assignment(
    session: Session,
    conversation: Conversation,
    card: Card,
    reviewer: User | None = None,
    *,
    due_at: datetime | None = None,
    status: AssignmentStatus = AssignmentStatus.OPEN,
) -> ReviewAssignment:
    row = ReviewAssignment(
        conversation_id=conversation.id,
        scorecard_id=card.scorecard.id,
        reviewer_id=reviewer.id if reviewer else None,
        status=status,
        due_at=due_at,
        reason="Test sample",
    )
    session.add(row)
    session.commit()
    return row


def submitted_review(
    session: Session,
    card: Card,
    conversation: Conversation,
    reviewer: User,
    values: dict[str, Any] | None = None,
    *,
    comments: dict[str, str] | None = None,
    overall_comment: str = "",
    submitted_at: datetime | None = None,
) -> Review:
    """A review scored through the services and committed."""
    review = services.start_review(session, conversation, reviewer, version=card.version)
    answers = card.answers(values or PERFECT, comments)
    services.save_draft(session, review, answers, overall_comment, by=reviewer)
    services.submit_review(session, review, by=reviewer)
    if submitted_at is not None:
        review.submitted_at = submitted_at
    session.commit()
    return review


def review_world(make: Factory, agent: Agent, conversation: Conversation, agent_user: User) -> dict:
    """Objects for the route-permission world: an unassigned open assignment of the world's
    conversation, a submitted review of it, and a disputed review of another conversation of
    the same agent; both scored by a QA specialist who is none of the world's users."""
    session = make.session
    card = published_scorecard(session, name="Review world scorecard")
    reviewer = make.user(Role.QA_SPECIALIST, email="world.reviewer@example.org")
    open_assignment = assignment(session, conversation, card)
    review = submitted_review(session, card, conversation, reviewer)
    disputed = submitted_review(session, card, make.conversation(agent), reviewer)
    dispute = services.dispute(session, disputed, "The customer was greeted.", by=agent_user)
    session.commit()
    return {"assignment_id": open_assignment.id, "review_id": review.id, "dispute_id": dispute.id}


def scored_review(
    session: Session,
    card: Card,
    conversation: Conversation,
    reviewer: User,
    score: float | None,
    *,
    status: ReviewStatus = ReviewStatus.SUBMITTED,
    submitted_at: datetime | None = None,
) -> Review:
    """A review row with a given score, inserted directly (for statistics and lists)."""
    review = Review(
        conversation_id=conversation.id,
        scorecard_version_id=card.version.id,
        reviewer_id=reviewer.id,
        agent_id=conversation.agent_id,
        team_id=conversation.team_id,
        status=status,
        score=score,
        section_scores={},
        submitted_at=None if status == ReviewStatus.DRAFT else submitted_at or utcnow(),
    )
    session.add(review)
    session.commit()
    return review
