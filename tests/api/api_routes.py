"""Expected access per role for this feature's routes (merged into tests.routes).

The API answers 401 to every cookie-only request, logged in or not: only a bearer token
authenticates it. Its real role matrix is tested with tokens in test_conversations_api.py.
"""

from __future__ import annotations

from tests.access import ALL, ROLES, Access, allow


def token_only(method: str) -> Access:
    """A session cookie, or none, gets 401 whatever the role."""
    return Access(method, frozenset(ROLES), ok=401, anonymous=401)


ROUTES: dict[str, Access] = {
    "/account/tokens": allow("GET", ALL),
    # The world's token belongs to another user: nobody may revoke it here, so 404 for all.
    "/account/tokens/<int:token_id>/revoke": allow("POST", ALL, ok=404),
    "/admin/users/<int:user_id>/tokens": allow("GET", {"admin"}),
    "/admin/users/<int:user_id>/tokens/<int:token_id>/revoke": allow("POST", {"admin"}, ok=302),
    # The OpenAPI description is public: clients read it to discover the API.
    "/api/v1/openapi.json": allow("GET", ALL, anonymous=200),
    "/api/v1/me": token_only("GET"),
    "/api/v1/conversations": token_only("GET"),
    "/api/v1/conversations/<int:conversation_id>": token_only("GET"),
    # Calibration: the role matrix with tokens is in tests/calibration/test_api.py.
    "/api/v1/calibration/sessions": token_only("GET"),
    "/api/v1/calibration/sessions/<int:session_id>": token_only("GET"),
    "/api/v1/calibration/sessions/<int:session_id>/ratings": token_only("POST"),
    "/api/v1/calibration/sessions/<int:session_id>/results": token_only("GET"),
    "/api/v1/calibration/sessions/<int:session_id>/conversations/<int:conversation_id>": (
        token_only("GET")
    ),
    # Assignments: the role matrix with tokens is in tests/api/test_assignments.py.
    "/api/v1/assignments": token_only("GET"),
    "/api/v1/assignments/<int:assignment_id>": token_only("GET"),
    "/api/v1/assignments/<int:assignment_id>/reassign": token_only("POST"),
    "/api/v1/assignments/<int:assignment_id>/skip": token_only("POST"),
}
