"""Build the demo organisation from the shipped conversations; safe to run again."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.auth.services import create_user, find_user_by_email
from qa_app.org.models import Agent, Partner
from qa_app.org.roles import Role
from qa_app.org.services import get_or_create_partner, get_or_create_team, save_agent

DEMO_DATA = Path(__file__).with_name("conversations-demo.jsonl.gz")
DEMO_PASSWORD = "demo-password"
DEMO_DOMAIN = "demo.qa-app.org"
DEMO_AGENT_LOGIN = "ag-001"  # the agent whose account the demo creates
REFERENCE_DAY = date(2026, 11, 1)  # the day the demo data ends


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    partner: str | None
    created: bool


def iter_agent_refs(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the agent object of every conversation, streaming the gzip file."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)["agent"]


def _hire_date(external_id: str) -> date:
    """A stable, plausible hire date: 2 months to 3 years before the data ends."""
    days = 60 + int(hashlib.sha256(external_id.encode()).hexdigest(), 16) % (3 * 365 - 60)
    return REFERENCE_DAY - timedelta(days=days)


def seed_organisation(session: Session, path: Path = DEMO_DATA) -> int:
    """Create the partners, teams and agents named in the file; return the agents created."""
    created = 0
    seen: set[str] = set()
    for ref in iter_agent_refs(path):
        if ref["external_id"] in seen:
            continue
        seen.add(ref["external_id"])
        partner = get_or_create_partner(session, ref["partner"]) if ref["partner"] else None
        team = get_or_create_team(session, ref["team"], partner)
        exists = session.scalars(
            select(Agent.id).where(Agent.external_id == ref["external_id"])
        ).first()
        if exists is None:
            save_agent(
                session,
                None,
                name=ref["name"],
                team_id=team.id,
                external_id=ref["external_id"],
                email=f"{ref['name'].lower().replace(' ', '.')}@{DEMO_DOMAIN}",
                hire_date=_hire_date(ref["external_id"]),
            )
            created += 1
    return created


def seed_conversations(session: Session, path: Path = DEMO_DATA, *, redact: bool = True) -> Any:
    """Import the demo conversations through the regular importer; unchanged ones are skipped."""
    from qa_app.conversations.importer import ImportOptions, import_file
    from qa_app.org.services import organisation_settings

    settings = organisation_settings(session, default_redact=redact)
    options = ImportOptions(format="jsonl", redact=settings.redact_pii)
    return import_file(session, path, options, via="cli", filename=path.name)


def _demo_accounts(session: Session) -> list[tuple[str, str, Role, int | None, int | None]]:
    accounts: list[tuple[str, str, Role, int | None, int | None]] = [
        ("admin", "Ada Admin", Role.ADMIN, None, None),
        ("manager", "Morgan Manager", Role.MANAGER, None, None),
        ("qa", "Quinn QA", Role.QA_SPECIALIST, None, None),
    ]
    agent = session.scalars(select(Agent).where(Agent.external_id == DEMO_AGENT_LOGIN)).one()
    accounts.append(("agent", agent.name, Role.AGENT, None, agent.id))
    for partner in session.scalars(select(Partner).order_by(Partner.name)):
        slug = partner.name.split()[0].lower()
        accounts.append(
            (f"{slug}.viewer", f"{partner.name} viewer", Role.PARTNER_VIEWER, partner.id, None)
        )
        accounts.append((f"{slug}.qa", f"{partner.name} QA", Role.PARTNER_QA, partner.id, None))
    return accounts


def _second_raters(session: Session) -> list[tuple[str, str, Role, int | None, int | None]]:
    """A second in-house QA specialist and a second QA rater per partner: the calibration demo
    needs two raters in every group for the group's agreement to be computable."""
    accounts: list[tuple[str, str, Role, int | None, int | None]] = [
        ("qa2", "Robin QA", Role.QA_SPECIALIST, None, None),
    ]
    for partner in session.scalars(select(Partner).order_by(Partner.name)):
        slug = partner.name.split()[0].lower()
        accounts.append((f"{slug}.qa2", f"{partner.name} QA 2", Role.PARTNER_QA, partner.id, None))
    return accounts


def _ensure_user(
    session: Session,
    account: tuple[str, str, Role, int | None, int | None],
    *,
    cheap_hash: bool,
) -> tuple[User, bool]:
    local_part, name, role, partner_id, agent_id = account
    email = f"{local_part}@{DEMO_DOMAIN}"
    user: User | None = find_user_by_email(session, email)
    if user is not None:
        return user, False
    user = create_user(
        session,
        email=email,
        name=name,
        password=DEMO_PASSWORD,
        role=role,
        partner_id=partner_id,
        agent_id=agent_id,
        cheap_hash=cheap_hash,
    )
    return user, True


def seed_users(session: Session, *, cheap_hash: bool = False) -> list[DemoLogin]:
    """One user per role, and a viewer and a QA rater for each partner: the logins returned.

    The second raters of the calibration demo (see :func:`_second_raters`) are created too, with
    the same password, but not returned: one login per role is enough to show.
    """
    logins = []
    for account in _demo_accounts(session):
        user, created = _ensure_user(session, account, cheap_hash=cheap_hash)
        logins.append(
            DemoLogin(user.email, user.role, user.partner.name if user.partner else None, created)
        )
    for account in _second_raters(session):
        _ensure_user(session, account, cheap_hash=cheap_hash)
    return logins
