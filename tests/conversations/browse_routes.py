"""Expected access per role for this feature's routes (merged into tests.routes)."""

from __future__ import annotations

from tests.access import ALL, Access, allow

ROUTES: dict[str, Access] = {
    "/conversations/": allow("GET", ALL),
    # Filled with a conversation of partner A's agent A: in scope for every role of the World.
    "/conversations/<int:conversation_id>": allow("GET", ALL),
}
