"""Expected access per role for this feature's routes (merged into tests.routes)."""

from __future__ import annotations

from tests.access import EDITORS, Access, allow

# POSTs carry no body in the role matrix: an empty upload re-renders the form (200); commit and
# review without a valid upload token are bad requests (400); discard just goes back (302).
ROUTES: dict[str, Access] = {
    "/conversations/import": allow("GET", EDITORS),
    "/conversations/import/preview": allow("POST", EDITORS),
    "/conversations/import/review": allow("POST", EDITORS, ok=400),
    "/conversations/import/commit": allow("POST", EDITORS, ok=400),
    "/conversations/import/discard": allow("POST", EDITORS, ok=302),
    "/conversations/import/history": allow("GET", EDITORS),
    # Part 4 of the same issue: the organisation's settings, redaction among them.
    "/admin/settings": allow("GET", {"admin"}),
}
