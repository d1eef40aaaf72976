"""Expected access per role for this feature's routes (merged into tests.routes)."""

from __future__ import annotations

from tests.access import EDITORS, Access, allow

# Assignments are listed for in-house staff and partner users (each within their own scope);
# the world's assignment (tests.reviews.factories.review_world) is open and unassigned.
ASSIGNMENT_READERS = {"admin", "manager", "qa_specialist", "partner_qa", "partner_viewer"}

ROUTES: dict[str, Access] = {
    "/sampling/": allow("GET", EDITORS),
    "/sampling/plans/new": allow("GET", EDITORS),
    "/sampling/plans/<int:plan_id>": allow("GET", EDITORS),
    "/sampling/plans/<int:plan_id>/edit": allow("GET", EDITORS),
    "/sampling/plans/<int:plan_id>/preview": allow("GET", EDITORS),
    "/sampling/plans/<int:plan_id>/run": allow("POST", EDITORS, ok=302),
    "/sampling/assignments": allow("GET", ASSIGNMENT_READERS),
    "/sampling/assignments/<int:assignment_id>": allow("GET", EDITORS),
    "/sampling/assignments/<int:assignment_id>/reassign": allow("POST", EDITORS, ok=302),
    "/sampling/assignments/<int:assignment_id>/skip": allow("POST", EDITORS, ok=302),
}
