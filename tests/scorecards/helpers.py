"""Building scorecards in tests through the services, as the builder UI does."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from qa_app.scorecards import services
from qa_app.scorecards.models import Scorecard, ScorecardVersion
from qa_app.scorecards.scoring import CriterionKind, Critical
from qa_app.scorecards.validation import CriterionSpec

YES_NO = CriterionKind.YES_NO
SCALE = CriterionKind.SCALE
POINTS = CriterionKind.POINTS


def spec(title: str, kind: CriterionKind = YES_NO, **fields: object) -> CriterionSpec:
    return CriterionSpec(title=title, kind=kind, **fields)  # type: ignore[arg-type]


DEFAULT_LAYOUT: list[tuple[str, list[CriterionSpec]]] = [
    (
        "Accuracy",
        [spec("Correct information", key="accuracy", weight=3, critical=Critical.REVIEW)],
    ),
    (
        "Communication",
        [
            spec(
                "Clarity",
                SCALE,
                key="clarity",
                scale_max=4,
                scale_labels=("Poor", "Fair", "Good", "Great"),
                guidance="Plain words.\nNo jargon.",
            ),
            spec("Hold etiquette", POINTS, key="hold", max_points=3, allow_na=True),
        ],
    ),
]


def build_draft(
    session: Session,
    name: str = "Support quality",
    layout: Sequence[tuple[str, Sequence[CriterionSpec]]] = DEFAULT_LAYOUT,
) -> Scorecard:
    """A scorecard whose version 1 is a draft with ``layout`` (section title, criteria)."""
    scorecard = services.create_scorecard(session, name=name)
    draft = scorecard.versions[0]
    for title, criteria in layout:
        section = services.add_section(session, draft, title=title)
        for criterion_spec in criteria:
            services.add_criterion(session, section, criterion_spec)
    session.commit()
    return scorecard


def build_published(
    session: Session,
    name: str = "Support quality",
    layout: Sequence[tuple[str, Sequence[CriterionSpec]]] = DEFAULT_LAYOUT,
) -> tuple[Scorecard, ScorecardVersion]:
    scorecard = build_draft(session, name, layout)
    version = services.publish_version(session, scorecard.versions[0])
    session.commit()
    return scorecard, version


def specs_of(version: ScorecardVersion) -> list[tuple[str, int, int, CriterionSpec]]:
    """Everything a version asks, in order: (section, section position, position, spec)."""
    return [
        (section.title, section.position, criterion.position, CriterionSpec.of(criterion))
        for section in version.sections
        for criterion in section.criteria
    ]
