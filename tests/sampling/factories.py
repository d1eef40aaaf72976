"""Builders of sampling objects for tests of any feature."""

from __future__ import annotations

from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.sampling import services
from qa_app.sampling.models import SamplingPlan, Strategy
from qa_app.sampling.periods import parse_period
from tests.reviews.factories import Card

WEEK = parse_period("2026-W40")  # Monday 2026-09-28 to Monday 2026-10-05, UTC


def make_plan(db: Session, card: Card, name: str, reviewers: list[User], size: int) -> SamplingPlan:
    plan = services.save_plan(
        db,
        None,
        services.PlanInput(
            name=name,
            scorecard_id=card.scorecard.id,
            strategy=Strategy.UNIFORM,
            params={"size": size},
            seed=42,
            reviewer_ids=[user.id for user in reviewers],
        ),
    )
    db.commit()
    return plan
