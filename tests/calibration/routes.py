"""Expected access per role for the calibration routes (merged into tests.routes).

Filled with the objects of tests.calibration.factories.permission_world: a revealed session on
the world's conversation, rated by the world's manager, QA specialist and partner QA, so every
role but agents sees it and the raters may open their (now read-only) rating pages.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.access import ALL, Access, allow

READERS = ALL - {"agent"}
FACILITATORS = {"admin", "manager"}
RATERS = {"manager", "qa_specialist", "partner_qa"}
PARTICIPANTS = FACILITATORS | RATERS


@dataclass(frozen=True)
class HiddenAccess(Access):
    """Roles in ``hidden`` pass the role check but find no session to see: 404."""

    hidden: frozenset[str] = frozenset()

    def expected(self, role: str) -> int:
        return 404 if role in self.hidden else super().expected(role)


# The results pages let every role through and answer 404 to sessions out of sight: agents.
RESULTS = HiddenAccess("GET", frozenset(ALL), hidden=frozenset({"agent"}))

ROUTES: dict[str, Access] = {
    "/calibration/": allow("GET", READERS),
    "/calibration/new": allow("GET", FACILITATORS),
    "/calibration/trends": allow("GET", READERS),
    "/calibration/<int:session_id>": allow("GET", READERS),
    "/calibration/<int:session_id>/conversations/<int:conversation_id>/rate": allow("GET", RATERS),
    "/calibration/<int:session_id>/conversations/<int:conversation_id>/benchmark": allow(
        "GET", FACILITATORS
    ),
    "/calibration/<int:session_id>/reveal": allow("POST", FACILITATORS, ok=302),
    "/calibration/<int:session_id>/consensus": allow("POST", FACILITATORS, ok=302),
    "/calibration/<int:session_id>/close": allow("POST", FACILITATORS, ok=302),
    # An empty note re-renders the session page with the error.
    "/calibration/<int:session_id>/notes": allow("POST", PARTICIPANTS, ok=422),
    "/calibration/<int:session_id>/notes/<int:note_id>/apply": allow("POST", FACILITATORS, ok=302),
    "/calibration/<int:session_id>/results": RESULTS,
    "/calibration/<int:session_id>/results.csv": RESULTS,
}
