"""Who may see and edit scorecards; the web UI and the API apply the same rules.

* Admins and managers build scorecards: drafts, publishing, targets.
* In-house staff (admins, managers, QA specialists) read every scorecard and every version,
  drafts included, so QA leads can check a draft before it goes live.
* Partner users (viewers and QA) and agents read the published and retired versions, guidance
  included, of the scorecards that can apply to them: untargeted ones, ones targeted at a channel
  only, and ones targeted at one of their own teams. What they are measured on is no secret; a
  draft is work in progress and stays in-house. Other partners' teams never show in targets.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, false, or_, select
from sqlalchemy.sql.elements import ColumnElement

from qa_app.org.models import Agent, Team
from qa_app.org.roles import IN_HOUSE_STAFF, ORG_EDITORS, Role
from qa_app.org.scope import scope_of
from qa_app.scorecards.models import Scorecard, ScorecardTarget, ScorecardVersion, VersionStatus

SCORECARD_EDITORS = ORG_EDITORS
SCORECARD_VIEWERS = frozenset(Role)
DRAFT_READERS = IN_HOUSE_STAFF


def may_edit(user: Any) -> bool:
    return getattr(user, "role", None) in SCORECARD_EDITORS


def may_see_drafts(user: Any) -> bool:
    return getattr(user, "role", None) in DRAFT_READERS


def may_see_version(user: Any, version: ScorecardVersion) -> bool:
    return version.status != VersionStatus.DRAFT or may_see_drafts(user)


def visible_team_ids(user: Any) -> Select[Any] | None:
    """A SELECT of the team ids the user may see; None means every team."""
    scope = scope_of(user)
    if scope.everything:
        return None
    if scope.partner_id is not None:
        return select(Team.id).where(Team.partner_id == scope.partner_id)
    if scope.agent_id is not None:
        return select(Agent.team_id).where(Agent.id == scope.agent_id)
    return select(Team.id).where(false())


def scorecard_condition(user: Any) -> ColumnElement[bool] | None:
    """The WHERE condition on Scorecard for what ``user`` may see; None means no restriction."""
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return None
    if not getattr(user, "is_authenticated", False):
        return false()
    applies_to_them = select(ScorecardTarget.id).where(
        ScorecardTarget.scorecard_id == Scorecard.id,
        or_(ScorecardTarget.team_id.is_(None), ScorecardTarget.team_id.in_(team_ids)),
    )
    has_targets = select(ScorecardTarget.id).where(ScorecardTarget.scorecard_id == Scorecard.id)
    return or_(~has_targets.exists(), applies_to_them.exists())


def scoped_scorecards(stmt: Select[Any], user: Any) -> Select[Any]:
    """Restrict a SELECT over Scorecard to the scorecards ``user`` may see."""
    condition = scorecard_condition(user)
    return stmt if condition is None else stmt.where(condition)
