"""The one import service behind the CLI, the web upload and the API.

A file is parsed as a stream, validated unit by unit, redacted, and written in batches with
SQLAlchemy Core inside a single transaction. By default any bad unit rolls the whole import back
(nothing half-written); ``partial`` keeps the good ones. Re-importing is idempotent: a
conversation is keyed by (source, external id) and carries a hash of its content, so an unchanged
one is skipped and a changed one is updated with its messages and tags replaced.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from typing import IO, TextIO

from sqlalchemy.orm import Session

from qa_app.conversations.formats import FORMATS, detect_format, open_text
from qa_app.conversations.import_report import (
    BATCH_SIZE,
    MAX_REPORTED_ERRORS,
    PREVIEW_SIZE,
    UNASSIGNED_TEAM,
    UNKNOWN_AGENT_RULES,
    ImportFailed,
    ImportOptions,
    ImportReport,
)
from qa_app.conversations.import_writer import (
    ImportWriter,
    PendingConversation,
    content_hash,
)
from qa_app.conversations.limits import InputTooLarge, current_limits
from qa_app.conversations.models import ConversationImport
from qa_app.conversations.records import ParsedItem, RecordError
from qa_app.conversations.redaction import redact_record
from qa_app.db import utcnow

# The importer's whole vocabulary, for callers that need only this module.
__all__ = [
    "BATCH_SIZE",
    "MAX_REPORTED_ERRORS",
    "PREVIEW_SIZE",
    "UNASSIGNED_TEAM",
    "UNKNOWN_AGENT_RULES",
    "ImportFailed",
    "ImportOptions",
    "ImportReport",
    "content_hash",
    "import_file",
    "import_stream",
]

DETECT_BYTES = 64 * 1024

# Declarative types __table__ as any FromClause (a class may be mapped to a SELECT); these
# classes are mapped to plain tables, and Core's insert, update and delete want a Table.


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
    writer = ImportWriter(session, report, options)
    batch: list[PendingConversation] = []
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
            batch.append(PendingConversation(item.location, record, redactions))
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
