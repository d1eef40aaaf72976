"""/api/v1/scorecards: the scorecards a token's user may read, and any version in full.

Visibility is the web UI's (qa_app/scorecards/access.py): in-house staff see every scorecard and
version, drafts included; partner users and agents see the published and retired versions of the
scorecards that can apply to them, and only their own teams among the targets.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qa_app.api.auth import api_user
from qa_app.api.blueprint import bp
from qa_app.api.endpoint import endpoint
from qa_app.api.formats import Moment, Url
from qa_app.api.models import Answer
from qa_app.db import get_session
from qa_app.org.models import Team
from qa_app.scorecards import models
from qa_app.scorecards.access import (
    SCORECARD_VIEWERS,
    may_see_version,
    scoped_scorecards,
    visible_team_ids,
)
from qa_app.scorecards.models import ScorecardSection, VersionStatus
from qa_app.scorecards.scoring import CriterionKind, Critical
from qa_app.scorecards.summary import weight_shares
from qa_app.service_errors import NotFound

# Answers -----------------------------------------------------------------------------------------


class TargetTeam(Answer):
    id: int
    name: str | None


class ScorecardTarget(Answer):
    team: TargetTeam | None
    channel: str | None


class ScorecardVersionSummary(Answer):
    number: int
    status: VersionStatus
    change_note: str
    created_at: Moment
    published_at: Moment | None
    url: Url


class Scorecard(Answer):
    id: int
    name: str
    description: str
    is_active: bool
    targets: list[ScorecardTarget] = Field(
        description="Where the scorecard applies; empty: every team and channel."
    )
    versions: list[ScorecardVersionSummary]


class ScorecardList(Answer):
    items: list[Scorecard]
    total: int


class Criterion(Answer):
    id: int = Field(description="What review answers refer to; key is stable across versions.")
    key: str
    title: str
    guidance: str
    kind: CriterionKind
    weight: float
    weight_share: float
    allow_na: bool
    scale_max: int | None
    scale_labels: list[str]
    max_points: int | None
    critical: Critical


class Section(Answer):
    title: str
    criteria: list[Criterion]


class ScorecardName(Answer):
    id: int
    name: str


class ScorecardVersion(ScorecardVersionSummary):
    scorecard: ScorecardName
    sections: list[Section]


# Building them -----------------------------------------------------------------------------------


def _targets(scorecards: list[models.Scorecard]) -> dict[int, list[ScorecardTarget]]:
    """Each scorecard's targets the user may see; an empty list means every team and channel."""
    session = get_session()
    team_ids = {t.team_id for sc in scorecards for t in sc.targets if t.team_id is not None}
    names = {
        row.id: row.name
        for row in session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))
    }
    visible = visible_team_ids(api_user())
    allowed = team_ids if visible is None else set(session.scalars(visible))
    answer: dict[int, list[ScorecardTarget]] = {}
    for scorecard in scorecards:
        answer[scorecard.id] = [
            ScorecardTarget(
                team=None
                if target.team_id is None
                else TargetTeam(id=target.team_id, name=names.get(target.team_id)),
                channel=target.channel,
            )
            for target in sorted(scorecard.targets, key=lambda t: (t.team_id or 0, t.channel or ""))
            if target.team_id is None or target.team_id in allowed
        ]
    return answer


def _version_fields(version: models.ScorecardVersion) -> dict[str, Any]:
    """The fields of ScorecardVersionSummary, which ScorecardVersion has too."""
    return {
        "number": version.number,
        "status": version.status,
        "change_note": version.change_note,
        "created_at": version.created_at,
        "published_at": version.published_at,
        "url": url_for(
            "api.get_scorecard_version",
            scorecard_id=version.scorecard_id,
            number=version.number,
            _external=True,
        ),
    }


def _scorecard(scorecard: models.Scorecard, targets: list[ScorecardTarget]) -> Scorecard:
    return Scorecard(
        id=scorecard.id,
        name=scorecard.name,
        description=scorecard.description,
        is_active=scorecard.is_active,
        targets=targets,
        versions=[
            ScorecardVersionSummary(**_version_fields(version))
            for version in scorecard.versions
            if may_see_version(api_user(), version)
        ],
    )


def _criterion(criterion: models.Criterion, share: float) -> Criterion:
    return Criterion(
        id=criterion.id,
        key=criterion.key,
        title=criterion.title,
        guidance=criterion.guidance,
        kind=criterion.kind,
        weight=criterion.weight,
        weight_share=round(share, 2),
        allow_na=criterion.allow_na,
        scale_max=criterion.scale_max if criterion.kind == CriterionKind.SCALE else None,
        scale_labels=list(criterion.scale_labels or []),
        max_points=criterion.max_points if criterion.kind == CriterionKind.POINTS else None,
        critical=criterion.critical,
    )


# Endpoints ---------------------------------------------------------------------------------------


@bp.get("/scorecards")
@endpoint(
    SCORECARD_VIEWERS, operation_id="listScorecards", tag="scorecards", answers={200: ScorecardList}
)
def list_scorecards() -> ScorecardList:
    """The scorecards the user may read, with their versions."""
    stmt = scoped_scorecards(
        select(models.Scorecard)
        .options(selectinload(models.Scorecard.versions), selectinload(models.Scorecard.targets))
        .order_by(models.Scorecard.name, models.Scorecard.id),
        api_user(),
    )
    scorecards = list(get_session().scalars(stmt))
    targets = _targets(scorecards)
    items = [_scorecard(scorecard, targets[scorecard.id]) for scorecard in scorecards]
    return ScorecardList(items=items, total=len(items))


@bp.get("/scorecards/<int:scorecard_id>/versions/<int:number>")
@endpoint(
    SCORECARD_VIEWERS,
    operation_id="getScorecardVersion",
    tag="scorecards",
    answers={200: ScorecardVersion},
    errors=[404],
    path_descriptions={"number": "The version number."},
)
def get_scorecard_version(scorecard_id: int, number: int) -> ScorecardVersion:
    """One scorecard version in full.

    Sections in order, their criteria with guidance and weight shares.
    """
    session = get_session()
    scorecard = session.scalars(
        scoped_scorecards(
            select(models.Scorecard).where(models.Scorecard.id == scorecard_id), api_user()
        )
    ).one_or_none()
    version = session.scalars(
        select(models.ScorecardVersion)
        .where(
            models.ScorecardVersion.scorecard_id == scorecard_id,
            models.ScorecardVersion.number == number,
        )
        .options(
            selectinload(models.ScorecardVersion.sections).selectinload(ScorecardSection.criteria)
        )
    ).one_or_none()
    if scorecard is None or version is None or not may_see_version(api_user(), version):
        raise NotFound("There is no such scorecard version, or it is not yours to see.")
    shares = weight_shares(version)
    return ScorecardVersion(
        **_version_fields(version),
        scorecard=ScorecardName(id=scorecard.id, name=scorecard.name),
        sections=[
            Section(
                title=section.title,
                criteria=[_criterion(c, shares[c.id]) for c in section.criteria],
            )
            for section in version.sections
        ],
    )
