"""/api/v1/scorecards: the scorecards a token's user may read, and any version in full.

Visibility is the web UI's (qa_app/scorecards/access.py): in-house staff see every scorecard and
version, drafts included; partner users and agents see the published and retired versions of the
scorecards that can apply to them, and only their own teams among the targets.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from qa_app.api.auth import api_roles, api_user
from qa_app.api.blueprint import bp
from qa_app.api.errors import ApiError
from qa_app.api.serializers import iso
from qa_app.db import get_session
from qa_app.org.models import Team
from qa_app.scorecards.access import (
    SCORECARD_VIEWERS,
    may_see_version,
    scoped_scorecards,
    visible_team_ids,
)
from qa_app.scorecards.models import (
    Criterion,
    Scorecard,
    ScorecardSection,
    ScorecardVersion,
)
from qa_app.scorecards.scoring import CriterionKind
from qa_app.scorecards.summary import weight_shares


def _targets(scorecards: list[Scorecard]) -> dict[int, list[dict[str, Any]]]:
    """Each scorecard's targets the user may see; an empty list means every team and channel."""
    session = get_session()
    team_ids = {t.team_id for sc in scorecards for t in sc.targets if t.team_id is not None}
    names = {
        row.id: row.name
        for row in session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))
    }
    visible = visible_team_ids(api_user())
    allowed = team_ids if visible is None else set(session.scalars(visible))
    answer: dict[int, list[dict[str, Any]]] = {}
    for scorecard in scorecards:
        answer[scorecard.id] = [
            {
                "team": None
                if target.team_id is None
                else {"id": target.team_id, "name": names.get(target.team_id)},
                "channel": target.channel,
            }
            for target in sorted(scorecard.targets, key=lambda t: (t.team_id or 0, t.channel or ""))
            if target.team_id is None or target.team_id in allowed
        ]
    return answer


def _version_summary(version: ScorecardVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "status": version.status.value,
        "change_note": version.change_note,
        "created_at": iso(version.created_at),
        "published_at": iso(version.published_at),
        "url": url_for(
            "api.get_scorecard_version",
            scorecard_id=version.scorecard_id,
            number=version.number,
            _external=True,
        ),
    }


def _scorecard(scorecard: Scorecard, targets: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": scorecard.id,
        "name": scorecard.name,
        "description": scorecard.description,
        "is_active": scorecard.is_active,
        "targets": targets,
        "versions": [
            _version_summary(version)
            for version in scorecard.versions
            if may_see_version(api_user(), version)
        ],
    }


def _criterion(criterion: Criterion, share: float) -> dict[str, Any]:
    return {
        "id": criterion.id,  # what review answers refer to; ``key`` is stable across versions
        "key": criterion.key,
        "title": criterion.title,
        "guidance": criterion.guidance,
        "kind": criterion.kind.value,
        "weight": criterion.weight,
        "weight_share": round(share, 2),
        "allow_na": criterion.allow_na,
        "scale_max": criterion.scale_max if criterion.kind == CriterionKind.SCALE else None,
        "scale_labels": list(criterion.scale_labels or []),
        "max_points": criterion.max_points if criterion.kind == CriterionKind.POINTS else None,
        "critical": criterion.critical.value,
    }


def _section(section: ScorecardSection, shares: dict[int, float]) -> dict[str, Any]:
    return {
        "title": section.title,
        "criteria": [_criterion(c, shares[c.id]) for c in section.criteria],
    }


@bp.get("/scorecards")
@api_roles(SCORECARD_VIEWERS)
def list_scorecards() -> Response:
    """The scorecards the token's user may read, each with its versions."""
    stmt = scoped_scorecards(
        select(Scorecard)
        .options(selectinload(Scorecard.versions), selectinload(Scorecard.targets))
        .order_by(Scorecard.name, Scorecard.id),
        api_user(),
    )
    scorecards = list(get_session().scalars(stmt))
    targets = _targets(scorecards)
    items = [_scorecard(scorecard, targets[scorecard.id]) for scorecard in scorecards]
    return jsonify({"items": items, "total": len(items)})


@bp.get("/scorecards/<int:scorecard_id>/versions/<int:number>")
@api_roles(SCORECARD_VIEWERS)
def get_scorecard_version(scorecard_id: int, number: int) -> Response:
    """One version in full: sections in order, their criteria with guidance and weight shares."""
    session = get_session()
    scorecard = session.scalars(
        scoped_scorecards(select(Scorecard).where(Scorecard.id == scorecard_id), api_user())
    ).one_or_none()
    version = session.scalars(
        select(ScorecardVersion)
        .where(ScorecardVersion.scorecard_id == scorecard_id, ScorecardVersion.number == number)
        .options(selectinload(ScorecardVersion.sections).selectinload(ScorecardSection.criteria))
    ).one_or_none()
    if scorecard is None or version is None or not may_see_version(api_user(), version):
        raise ApiError(404, "There is no such scorecard version, or it is not yours to see.")
    shares = weight_shares(version)
    return jsonify(
        {
            "scorecard": {"id": scorecard.id, "name": scorecard.name},
            **_version_summary(version),
            "sections": [_section(section, shares) for section in version.sections],
        }
    )
