"""The vocabulary of route-access tables: roles, role sets and the expected answer per role."""

from __future__ import annotations

from dataclasses import dataclass

from qa_app.org.roles import Role

ANONYMOUS = "anonymous"
ROLES = [ANONYMOUS, *[role.value for role in Role]]
IN_HOUSE = {"admin", "manager", "qa_specialist"}
PARTNER = {"partner_viewer", "partner_qa"}
READERS = IN_HOUSE | PARTNER
EDITORS = {"admin", "manager"}


@dataclass(frozen=True)
class Access:
    method: str
    allowed: frozenset[str]
    ok: int = 200  # the status an allowed role gets
    anonymous: int = 302  # anonymous users are sent to the login page

    def expected(self, role: str) -> int:
        if role == ANONYMOUS:
            return self.ok if ANONYMOUS in self.allowed else self.anonymous
        return self.ok if role in self.allowed else 403


def allow(method: str, roles: set[str], ok: int = 200, anonymous: int = 302) -> Access:
    return Access(method, frozenset(roles), ok, anonymous)


ALL = set(ROLES) - {ANONYMOUS}
