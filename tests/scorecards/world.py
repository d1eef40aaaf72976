"""Scorecard objects for the route-permission world (tests.routes.build_world)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from qa_app.scorecards import services
from qa_app.scorecards.scoring import CriterionKind
from qa_app.scorecards.validation import CriterionSpec


def scorecard_world(session: Session) -> dict[str, int]:
    """An untargeted scorecard with published version 1 and a draft version 2; the ids of the
    scorecard, of version 1's number, and of the draft's version, first section and criterion."""
    scorecard = services.create_scorecard(session, name="World scorecard")
    section = services.add_section(session, scorecard.versions[0], title="Accuracy")
    services.add_criterion(
        session, section, CriterionSpec(title="Correct information", kind=CriterionKind.YES_NO)
    )
    services.publish_version(session, scorecard.versions[0])
    draft = services.start_new_draft(session, scorecard)
    session.commit()
    return {
        "scorecard_id": scorecard.id,
        "number": 1,
        "version_id": draft.id,
        "section_id": draft.sections[0].id,
        "criterion_id": draft.sections[0].criteria[0].id,
    }
