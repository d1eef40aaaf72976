"""Writing an import: agents resolved or created, conversations inserted, updated or skipped by
their content hash, messages and tags in batches (COPY on PostgreSQL), in one transaction."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from qa_app.conversations.import_report import (
    UNASSIGNED_TEAM,
    ImportOptions,
    ImportReport,
)
from qa_app.conversations.models import Conversation, ConversationTag, Message
from qa_app.conversations.records import AgentRef, ConversationRecord, RecordError
from qa_app.db import utcnow
from qa_app.org.models import Agent, Team
from qa_app.org.services import OrgError, get_or_create_partner, get_or_create_team, save_agent

MESSAGE_TABLE = cast(Table, Message.__table__)

TAG_TABLE = cast(Table, ConversationTag.__table__)

CONVERSATION_TABLE = cast(Table, Conversation.__table__)


def content_hash(record: ConversationRecord, agent_id: int | None) -> str:
    """A digest of everything stored from the record, so an unchanged re-import writes nothing."""
    payload = [
        record.channel,
        agent_id,
        record.started_at.isoformat(),
        record.ended_at.isoformat() if record.ended_at else None,
        record.csat,
        sorted(record.tags),
        record.language,
        record.status,
        record.metadata,
        [
            [m.speaker, m.author, m.text, m.sent_at.isoformat() if m.sent_at else None]
            for m in record.messages
        ],
    ]
    encoded = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()


class AgentDirectory:
    """Resolves the agents a file names to (agent id, team id), creating them when allowed."""

    def __init__(
        self, session: Session, report: ImportReport, create: bool, create_partners: bool
    ) -> None:
        self.session = session
        self.report = report
        self.create = create
        self.create_partners = create_partners
        self.known: dict[str, tuple[int, int]] = {}

    def load(self, refs: Iterable[AgentRef]) -> None:
        """Look up a batch's agents in one query."""
        wanted = {ref.external_id for ref in refs} - self.known.keys()
        if not wanted:
            return
        rows = self.session.execute(
            select(Agent.external_id, Agent.id, Agent.team_id).where(Agent.external_id.in_(wanted))
        )
        for external_id, agent_id, team_id in rows:
            if external_id is not None:  # always: IN (...) leaves out NULL; tells the type checker
                self.known[external_id] = (agent_id, team_id)

    def resolve(self, ref: AgentRef) -> tuple[int, int] | str:
        """The agent's (id, team id), or the reason it cannot be used."""
        found = self.known.get(ref.external_id)
        if found is not None:
            return found
        if not self.create:
            return f"unknown agent {ref.external_id!r}"
        try:
            found = self._create(ref)
        except OrgError as error:
            return str(error)
        self.known[ref.external_id] = found
        return found

    def _create(self, ref: AgentRef) -> tuple[int, int]:
        partner = None
        if ref.partner:
            partner = self._partner(ref.partner)
        team = self._team(ref.team or UNASSIGNED_TEAM, partner)
        agent = save_agent(
            self.session,
            None,
            name=ref.name or ref.external_id,
            team_id=team.id,
            external_id=ref.external_id,
        )
        self.report.new_agents.append(ref.external_id)
        return agent.id, team.id

    def _partner(self, name: str) -> Any:
        from qa_app.org.models import Partner

        exists = self.session.scalar(
            select(Partner.id).where(func.lower(Partner.name) == name.strip().lower())
        )
        if exists is None and not self.create_partners:
            raise OrgError(
                f"unknown partner {name.strip()!r}: only an administrator can add partners"
            )
        partner = get_or_create_partner(self.session, name)
        if exists is None:
            self.report.new_partners.append(name)
        return partner

    def _team(self, name: str, partner: Any) -> Team:
        exists = self.session.scalar(
            select(Team.id).where(func.lower(Team.name) == name.strip().lower())
        )
        team = get_or_create_team(self.session, name, partner)
        if exists is None:
            self.report.new_teams.append(name)
        return team


@dataclass
class PendingConversation:
    location: str
    record: ConversationRecord
    redactions: dict[str, int]


class ImportWriter:
    """Writes batches of valid records with Core statements; decides create/update/unchanged."""

    def __init__(self, session: Session, report: ImportReport, options: ImportOptions) -> None:
        self.session = session
        self.report = report
        self.options = options
        self.agents = AgentDirectory(
            session, report, options.unknown_agents == "create", options.create_partners
        )
        self.seen: set[bytes] = set()
        self.postgres = session.get_bind().dialect.name == "postgresql"
        # After the first error of an all-or-nothing import there is no point writing more;
        # parsing goes on so that every error is reported.
        self.writing = True

    def key_seen(self, record: ConversationRecord) -> bool:
        """Whether the file already had this conversation; keeps 8 bytes per key, not the key."""
        digest = hashlib.blake2b(
            f"{record.source}\x00{record.external_id}".encode(), digest_size=8
        ).digest()
        if digest in self.seen:
            return True
        self.seen.add(digest)
        return False

    def write(self, batch: list[PendingConversation]) -> None:
        """Classify a batch as new, changed or unchanged, and write it unless the import failed."""
        self.agents.load(p.record.agent for p in batch if p.record.agent is not None)
        rows: list[tuple[PendingConversation, dict[str, Any]]] = []
        for pending in batch:
            values = self._values(pending)
            if values is not None:
                rows.append((pending, values))
                self.report.redactions.update(pending.redactions)
        if not rows:
            return
        existing = self._existing(rows)
        new_rows: list[tuple[PendingConversation, dict[str, Any]]] = []
        changed: list[tuple[PendingConversation, dict[str, Any], int]] = []
        for pending, values in rows:
            known = existing.get((values["source"], values["external_id"]))
            if known is None:
                new_rows.append((pending, values))
            elif known[1] == values["content_hash"]:
                self.report.unchanged += 1
            else:
                changed.append((pending, values, known[0]))
        if self.writing:
            self._insert(new_rows)
            self._update(changed)
        self.report.created += len(new_rows)
        self.report.updated += len(changed)

    def _values(self, pending: PendingConversation) -> dict[str, Any] | None:
        record = pending.record
        agent_id = team_id = None
        if record.agent is not None:
            resolved = self.agents.resolve(record.agent)
            if isinstance(resolved, str):
                self.report.add_error(RecordError(pending.location, "agent.id", resolved))
                self.report.rejected += 1
                self.writing = self.writing and self.options.partial
                return None
            agent_id, team_id = resolved
        return {
            "source": record.source,
            "external_id": record.external_id,
            "channel": record.channel,
            "agent_id": agent_id,
            "team_id": team_id,
            "started_at": record.started_at,
            "ended_at": record.ended_at,
            "handle_time_seconds": record.handle_time_seconds,
            "csat": record.csat,
            "status": record.status,
            "language": record.language,
            "metadata": record.metadata,
            "redactions": pending.redactions,
            "message_count": len(record.messages),
            "content_hash": content_hash(record, agent_id),
        }

    def _existing(
        self, rows: list[tuple[PendingConversation, dict[str, Any]]]
    ) -> dict[tuple[str, str], tuple[int, str]]:
        by_source: dict[str, list[str]] = {}
        for _, values in rows:
            by_source.setdefault(values["source"], []).append(values["external_id"])
        found: dict[tuple[str, str], tuple[int, str]] = {}
        with self._planned_per_run():
            for source, external_ids in by_source.items():
                result = self.session.execute(
                    select(
                        Conversation.external_id, Conversation.id, Conversation.content_hash
                    ).where(
                        Conversation.source == source, Conversation.external_id.in_(external_ids)
                    )
                )
                for external_id, conversation_id, old_hash in result:
                    found[(source, external_id)] = (conversation_id, old_hash)
        return found

    @contextmanager
    def _planned_per_run(self) -> Iterator[None]:
        """On PostgreSQL, plan the key lookup for its own values each time it runs.

        psycopg prepares a statement after five runs, and PostgreSQL then reuses a generic plan
        made while the table was small: the lookup became a scan of every row the import had
        written so far (50 ms to 700 ms a batch over 30,000 conversations). Only the lookup is
        planned per run; the foreign-key checks of the COPY keep their cached plans.
        """
        if not self.postgres:
            yield
            return
        self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        try:
            yield
        finally:
            self.session.execute(text("SET LOCAL plan_cache_mode = auto"))

    def _insert(self, new_rows: list[tuple[PendingConversation, dict[str, Any]]]) -> None:
        if not new_rows:
            return
        now = utcnow()
        params = [{**values, "imported_at": now, "updated_at": now} for _, values in new_rows]
        ids = (
            self.session.execute(
                insert(CONVERSATION_TABLE).returning(
                    CONVERSATION_TABLE.c.id, sort_by_parameter_order=True
                ),
                params,
            )
            .scalars()
            .all()
        )
        self._insert_children(zip((p for p, _ in new_rows), ids, strict=True))

    def _update(self, changed: list[tuple[PendingConversation, dict[str, Any], int]]) -> None:
        if not changed:
            return
        ids = [conversation_id for _, _, conversation_id in changed]
        self.session.execute(delete(MESSAGE_TABLE).where(MESSAGE_TABLE.c.conversation_id.in_(ids)))
        self.session.execute(delete(TAG_TABLE).where(TAG_TABLE.c.conversation_id.in_(ids)))
        now = utcnow()
        columns = [name for name in changed[0][1] if name not in ("source", "external_id")]
        statement = (
            update(CONVERSATION_TABLE)
            .where(CONVERSATION_TABLE.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in [*columns, "updated_at"]})
        )
        params = [
            {"b_id": conversation_id, "b_updated_at": now}
            | {f"b_{name}": values[name] for name in columns}
            for _, values, conversation_id in changed
        ]
        self.session.connection().execute(statement, params)
        self._insert_children((pending, conversation_id) for pending, _, conversation_id in changed)

    def _insert_children(self, pairs: Iterable[tuple[PendingConversation, int]]) -> None:
        messages: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        for pending, conversation_id in pairs:
            for position, message in enumerate(pending.record.messages):
                messages.append(
                    {
                        "conversation_id": conversation_id,
                        "position": position,
                        "speaker": message.speaker,
                        "author": message.author,
                        "text": message.text,
                        "sent_at": message.sent_at,
                    }
                )
            tags.extend(
                {"conversation_id": conversation_id, "tag": tag} for tag in pending.record.tags
            )
        connection = self.session.connection()
        for table, rows in ((MESSAGE_TABLE, messages), (TAG_TABLE, tags)):
            if not rows:
                continue
            if connection.dialect.name == "postgresql":
                _copy_rows(connection, table, rows)
            else:
                connection.execute(insert(table), rows)


def _copy_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows with PostgreSQL's COPY, in the session's transaction.

    An executemany runs one INSERT per row (pipelined by psycopg); COPY streams them all, which
    keeps a large import near the speed of a bare insert (benchmarks/import_bench.py).
    """
    columns = list(rows[0])
    names = ", ".join(f'"{name}"' for name in columns)
    driver = connection.connection.driver_connection
    assert driver is not None  # None only once the connection is closed; it is in use here
    with driver.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row([_plain(row[name]) for name in columns])


def _plain(value: Any) -> Any:
    """Enum members as their values: COPY sends what psycopg dumps, and it dumps enum names."""
    return value.value if isinstance(value, Enum) else value
