"""Expected access per role for this feature's routes (merged into tests.routes).

Filled with the objects of tests.reviews.factories.review_world: reviews of partner A's agent A
by a QA specialist who is none of the World's users, so in scope for every role.
"""

from __future__ import annotations

from tests.access import ALL, ROLES, Access, allow

REVIEWERS = {"admin", "manager", "qa_specialist", "partner_qa"}
RESOLVERS = {"admin", "manager"}

ROUTES: dict[str, Access] = {
    "/reviews/": allow("GET", ALL),
    "/reviews/queue": allow("GET", REVIEWERS),
    # The World's assignment is unassigned: any reviewer in scope may take it.
    "/reviews/assignments/<int:assignment_id>/start": allow("POST", REVIEWERS, ok=302),
    "/reviews/conversations/<int:conversation_id>/new": allow("GET", REVIEWERS),
    # A submitted review: its own reviewer and everyone else are sent to the review page.
    "/reviews/<int:review_id>/edit": allow("GET", REVIEWERS, ok=302),
    "/reviews/<int:review_id>": allow("GET", ALL),
    "/reviews/<int:review_id>/acknowledge": allow("POST", {"agent"}, ok=302),
    "/reviews/<int:review_id>/dispute": allow("GET", {"agent"}),
    "/reviews/disputes/<int:dispute_id>/resolve": allow("GET", RESOLVERS),
    "/reviews/agents/<int:agent_id>": allow("GET", ALL),
    "/reviews/advisor": allow("GET", RESOLVERS),
    # The API authenticates bearer tokens only (its role matrix is in test_api.py).
    "/api/v1/reviews": Access("GET", frozenset(ROLES), ok=401, anonymous=401),
    "/api/v1/reviews/<int:review_id>": Access("GET", frozenset(ROLES), ok=401, anonymous=401),
}
