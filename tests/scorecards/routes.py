"""Expected access per role for this feature's routes (merged into tests.routes).

Every role may read the world's published scorecard (agents and partner users see published and
retired versions only; test_views.py checks drafts and scope). Admins and managers edit; the
world's ``version_id``, ``section_id`` and ``criterion_id`` belong to its draft version 2.
"""

from __future__ import annotations

from tests.access import ALL, EDITORS, ROLES, Access, allow


def _token_only(method: str) -> Access:
    """The API answers 401 to a session cookie, or none, whatever the role."""
    return Access(method, frozenset(ROLES), ok=401, anonymous=401)


ROUTES: dict[str, Access] = {
    "/scorecards": allow("GET", ALL),
    "/scorecards/new": allow("GET", EDITORS),
    "/scorecards/<int:scorecard_id>": allow("GET", ALL),
    "/scorecards/<int:scorecard_id>/edit": allow("GET", EDITORS),
    "/scorecards/<int:scorecard_id>/deactivate": allow("POST", EDITORS, ok=302),
    "/scorecards/<int:scorecard_id>/reactivate": allow("POST", EDITORS, ok=302),
    "/scorecards/<int:scorecard_id>/targets": allow("GET", EDITORS),
    "/scorecards/<int:scorecard_id>/versions/<int:number>": allow("GET", ALL),
    "/scorecards/<int:scorecard_id>/drafts": allow("POST", EDITORS, ok=302),
    "/scorecards/versions/<int:version_id>/publish": allow("GET", EDITORS),
    "/scorecards/versions/<int:version_id>/discard": allow("POST", EDITORS, ok=302),
    "/scorecards/versions/<int:version_id>/sections/new": allow("GET", EDITORS),
    "/scorecards/sections/<int:section_id>/edit": allow("GET", EDITORS),
    "/scorecards/sections/<int:section_id>/delete": allow("POST", EDITORS, ok=302),
    "/scorecards/sections/<int:section_id>/up": allow("POST", EDITORS, ok=302),
    "/scorecards/sections/<int:section_id>/down": allow("POST", EDITORS, ok=302),
    "/scorecards/sections/<int:section_id>/criteria/new": allow("GET", EDITORS),
    "/scorecards/criteria/<int:criterion_id>/edit": allow("GET", EDITORS),
    "/scorecards/criteria/<int:criterion_id>/delete": allow("POST", EDITORS, ok=302),
    "/scorecards/criteria/<int:criterion_id>/up": allow("POST", EDITORS, ok=302),
    "/scorecards/criteria/<int:criterion_id>/down": allow("POST", EDITORS, ok=302),
    "/api/v1/scorecards": _token_only("GET"),
    "/api/v1/scorecards/<int:scorecard_id>/versions/<int:number>": _token_only("GET"),
}
