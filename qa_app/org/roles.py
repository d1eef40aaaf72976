"""Roles and what each may do; one place, so views and the API agree."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    QA_SPECIALIST = "qa_specialist"
    AGENT = "agent"
    PARTNER_VIEWER = "partner_viewer"
    PARTNER_QA = "partner_qa"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def is_partner_role(self) -> bool:
        return self in PARTNER_ROLES


ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.MANAGER: "Manager",
    Role.QA_SPECIALIST: "QA specialist",
    Role.AGENT: "Agent",
    Role.PARTNER_VIEWER: "Partner viewer",
    Role.PARTNER_QA: "Partner QA",
}

PARTNER_ROLES = frozenset({Role.PARTNER_VIEWER, Role.PARTNER_QA})
IN_HOUSE_STAFF = frozenset({Role.ADMIN, Role.MANAGER, Role.QA_SPECIALIST})

# Who may read the organisation directory (partner users see only their own partner's part).
ORG_READERS = frozenset(IN_HOUSE_STAFF | PARTNER_ROLES)
ORG_EDITORS = frozenset({Role.ADMIN, Role.MANAGER})
