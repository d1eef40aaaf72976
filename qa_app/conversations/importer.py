"""The one import service behind the CLI, the web upload and the API.

A file is parsed as a stream, validated unit by unit, redacted, and written in batches with
SQLAlchemy Core inside a single transaction. By default any bad unit rolls the whole import back
(nothing half-written); ``partial`` keeps the good ones. Re-importing is idempotent: a
conversation is keyed by (source, external id) and carries a hash of its content, so an unchanged
one is skipped and a changed one is updated with its messages and tags replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import IO, Any, TextIO, cast

from sqlalchemy import Connection, Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from qa_app.conversations.formats import FORMATS, detect_format, open_text
from qa_app.conversations.limits import InputTooLarge, current_limits
from qa_app.conversations.models import Conversation, ConversationImport, ConversationTag, Message
from qa_app.conversations.records import AgentRef, ConversationRecord, ParsedItem, RecordError
from qa_app.conversations.redaction import redact_record
from qa_app.db import utcnow
from qa_app.org.models import Agent, Team
from qa_app.org.services import OrgError, get_or_create_partner, get_or_create_team, save_agent

UNKNOWN_AGENT_RULES = ("create", "reject")
UNASSIGNED_TEAM = "Unassigned"  # where a created agent goes when the file names no team
MAX_REPORTED_ERRORS = 1000  # every error is counted; the first thousand are kept to show
PREVIEW_SIZE = 5
BATCH_SIZE = 500
DETECT_BYTES = 64 * 1024

# Declarative types __table__ as any FromClause (a class may be mapped to a SELECT); these
# classes are mapped to plain tables, and Core's insert, update and delete want a Table.
MESSAGE_TABLE = cast(Table, Message.__table__)
TAG_TABLE = cast(Table, ConversationTag.__table__)
CONVERSATION_TABLE = cast(Table, Conversation.__table__)


class ImportFailed(ValueError):
    """The input could not be read at all (unknown format, not UTF-8, ...); nothing was written."""


@dataclass(frozen=True)
class ImportOptions:
    format: str | None = None  # detected from the content and file name when None
    source: str | None = None  # overrides the source named in the file
    partial: bool = False  # import the good conversations and report the bad ones
    unknown_agents: str = "create"  # or "reject"
    dry_run: bool = False  # do everything, then roll back: an exact preview
    redact: bool = True
    # New partners only when the importer may add partners elsewhere too (administrators, and
    # the server's CLI): the same rule as the partner pages, whichever way the file comes in.
    create_partners: bool = True
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; choose one of {', '.join(FORMATS)}")
        if self.unknown_agents not in UNKNOWN_AGENT_RULES:
            raise ValueError(f"unknown_agents must be one of {', '.join(UNKNOWN_AGENT_RULES)}")


@dataclass
class ImportReport:
    """What an import did, or (dry run, or refused) would have done."""

    format: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[RecordError] = field(default_factory=list)
    redactions: Counter[str] = field(default_factory=Counter)
    new_agents: list[str] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)
    new_partners: list[str] = field(default_factory=list)
    preview: list[ConversationRecord] = field(default_factory=list)
    committed: bool = False
    dry_run: bool = False
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged

    def add_error(self, error: RecordError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def summary(self) -> str:
        """One line for people: what happened, or in a dry run or failed import, would have."""
        if self.committed:
            created, updated = f"{self.created} created", f"{self.updated} updated"
        else:
            created = f"{self.created} would be created"
            updated = f"{self.updated} would be updated"
        parts = [
            f"{self.total} conversations read",
            created,
            updated,
            f"{self.unchanged} unchanged",
        ]
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the API answers with."""
        return {
            "format": self.format,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "error_count": self.error_count,
            "errors": [
                {"location": e.location, "field": e.field, "reason": e.reason} for e in self.errors
            ],
            "redactions": dict(self.redactions),
            "new_agents": self.new_agents,
            "new_teams": self.new_teams,
            "new_partners": self.new_partners,
            "import_id": self.import_id,
        }


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


class _AgentDirectory:
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
class _Pending:
    location: str
    record: ConversationRecord
    redactions: dict[str, int]


class _Writer:
    """Writes batches of valid records with Core statements; decides create/update/unchanged."""

    def __init__(self, session: Session, report: ImportReport, options: ImportOptions) -> None:
        self.session = session
        self.report = report
        self.options = options
        self.agents = _AgentDirectory(
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

    def write(self, batch: list[_Pending]) -> None:
        """Classify a batch as new, changed or unchanged, and write it unless the import failed."""
        self.agents.load(p.record.agent for p in batch if p.record.agent is not None)
        rows: list[tuple[_Pending, dict[str, Any]]] = []
        for pending in batch:
            values = self._values(pending)
            if values is not None:
                rows.append((pending, values))
                self.report.redactions.update(pending.redactions)
        if not rows:
            return
        existing = self._existing(rows)
        new_rows: list[tuple[_Pending, dict[str, Any]]] = []
        changed: list[tuple[_Pending, dict[str, Any], int]] = []
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

    def _values(self, pending: _Pending) -> dict[str, Any] | None:
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
        self, rows: list[tuple[_Pending, dict[str, Any]]]
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

    def _insert(self, new_rows: list[tuple[_Pending, dict[str, Any]]]) -> None:
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

    def _update(self, changed: list[tuple[_Pending, dict[str, Any], int]]) -> None:
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

    def _insert_children(self, pairs: Iterable[tuple[_Pending, int]]) -> None:
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


def _items(stream: TextIO, fmt: str, source: str | None) -> Iterator[ParsedItem]:
    parser = FORMATS[fmt]
    try:
        yield from parser(stream, source=source)
    except UnicodeDecodeError as error:
        raise ImportFailed(
            f"the file is not UTF-8 text (invalid byte at offset {error.start} of a chunk)"
        ) from error
    except (EOFError, OSError, zlib.error) as error:  # truncated or corrupt gzip
        raise ImportFailed(f"the file could not be read: {error}") from error
    except InputTooLarge as error:
        raise ImportFailed(str(error)) from error


def import_stream(
    session: Session,
    stream: TextIO,
    options: ImportOptions,
    *,
    fmt: str,
    via: str,
    user_id: int | None = None,
    filename: str | None = None,
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Import an opened text stream of format ``fmt``; commits, or rolls back on failure.

    The session must have no pending work of its own: the import commits or rolls it back.
    """
    report = ImportReport(format=fmt, dry_run=options.dry_run)
    writer = _Writer(session, report, options)
    batch: list[_Pending] = []
    try:
        for item in _items(stream, fmt, options.source):
            report.total += 1
            if item.record is None:
                report.rejected += 1
                for error in item.errors:
                    report.add_error(error)
                writer.writing = writer.writing and options.partial
                continue
            record = item.record
            if writer.key_seen(record):
                report.rejected += 1
                report.add_error(
                    RecordError(
                        item.location,
                        "external_id",
                        f"conversation {record.external_id!r} of source {record.source!r} "
                        "appears more than once in this file",
                    )
                )
                writer.writing = writer.writing and options.partial
                continue
            redactions: dict[str, int] = {}
            if options.redact:
                record, redactions = redact_record(record)
            if len(report.preview) < PREVIEW_SIZE:
                report.preview.append(record)
            batch.append(_Pending(item.location, record, redactions))
            if len(batch) >= options.batch_size:
                writer.write(batch)
                batch = []
                if on_batch is not None:
                    on_batch(report)
        writer.write(batch)
        if on_batch is not None:
            on_batch(report)
        if options.dry_run or (report.error_count and not options.partial):
            session.rollback()
            return report
        record_run = ConversationImport(
            user_id=user_id,
            via=via,
            filename=filename,
            format=fmt,
            source=options.source,
            total=report.total,
            created=report.created,
            updated=report.updated,
            unchanged=report.unchanged,
            rejected=report.rejected,
            redactions=dict(report.redactions),
            finished_at=utcnow(),
        )
        session.add(record_run)
        session.commit()
        report.import_id = record_run.id
        report.committed = True
        return report
    except BaseException:
        session.rollback()
        raise


def _head(source: str | os.PathLike[str] | IO[bytes]) -> bytes:
    """The first bytes of a file, leaving a stream where it was (empty if it cannot rewind)."""
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as raw:
            return raw.read(DETECT_BYTES)
    if source.seekable():
        position = source.tell()
        head = source.read(DETECT_BYTES)
        source.seek(position)
        return head
    return b""


def import_file(
    session: Session,
    source: str | os.PathLike[str] | IO[bytes],
    options: ImportOptions,
    *,
    via: str,
    filename: str | None = None,
    user_id: int | None = None,
    on_batch: Callable[[ImportReport], None] | None = None,
) -> ImportReport:
    """Open a path or binary stream (gzip or not), tell its format, and import it."""
    name = filename or (os.fspath(source) if isinstance(source, str | os.PathLike) else "upload")
    fmt = options.format
    if fmt is None:
        try:
            fmt = detect_format(os.path.basename(name), _head(source))
        except ValueError as error:
            raise ImportFailed(str(error)) from error
    with open_text(source, current_limits()) as stream:
        return import_stream(
            session,
            stream,
            options,
            fmt=fmt,
            via=via,
            user_id=user_id,
            filename=os.path.basename(name),
            on_batch=on_batch,
        )
