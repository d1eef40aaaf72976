"""Sampling objects for the route-permission world (tests.routes.build_world)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from qa_app.sampling import services
from qa_app.sampling.models import Strategy
from qa_app.scorecards.models import Scorecard


def sampling_world(session: Session) -> dict[str, int]:
    """An active uniform plan without reviewers, on a scorecard of its own; its id."""
    scorecard = Scorecard(name="Sampling world scorecard")
    session.add(scorecard)
    session.flush()
    plan = services.save_plan(
        session,
        None,
        services.PlanInput(
            name="World plan",
            scorecard_id=scorecard.id,
            strategy=Strategy.UNIFORM,
            params={"size": 5},
            seed=1,
        ),
    )
    session.commit()
    return {"plan_id": plan.id}
