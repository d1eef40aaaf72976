"""Validated, database-free records produced by every import format.

Parsers turn vendor files into these frozen dataclasses so the importer (and the tests) only ever
deal with one shape. The value checks every format applies are in ``field_checks``, the mapping
of a canonical JSON object to a record in ``canonical``; all report problems the same way: every
problem of a unit, each with location, field and reason (``Problems``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from qa_app.conversations.checks import record_nul_paths
from qa_app.untrusted import NUL_REASON

SPEAKERS = ("customer", "agent", "bot", "system")
CHANNELS = ("chat", "phone", "email", "messaging", "social")

MAX_EXTERNAL_ID_LENGTH = 200
MAX_SOURCE_LENGTH = 100
MAX_LANGUAGE_LENGTH = 35  # RFC 5646 asks implementations to support language tags of 35 chars
MAX_STATUS_LENGTH = 50
MAX_TAG_LENGTH = 100
MAX_NAME_LENGTH = 200


@dataclass(frozen=True)
class AgentRef:
    """The agent who handled a conversation, as the source system identifies them."""

    external_id: str
    name: str | None = None
    team: str | None = None
    partner: str | None = None


@dataclass(frozen=True)
class MessageRecord:
    """One turn of a conversation; ``sent_at`` is optional because not every export has it."""

    speaker: str
    text: str
    sent_at: datetime | None = None
    author: str | None = None


@dataclass(frozen=True)
class ConversationRecord:
    """A complete, valid conversation ready to be stored; ``(source, external_id)`` is its key."""

    source: str
    external_id: str
    channel: str
    agent: AgentRef | None
    started_at: datetime
    ended_at: datetime | None
    csat: int | None
    tags: tuple[str, ...]
    language: str | None
    status: str | None
    metadata: dict[str, Any] = field(hash=False)
    messages: tuple[MessageRecord, ...]

    @property
    def handle_time_seconds(self) -> int | None:
        """Whole seconds from start to end, or None when the end is unknown."""
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


@dataclass(frozen=True)
class RecordError:
    """One precise problem, phrased so a support lead can fix the file without reading code."""

    location: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class ParsedItem:
    """What a parser yields per unit: either a record or the complete list of its errors."""

    location: str
    record: ConversationRecord | None
    errors: tuple[RecordError, ...]

    @property
    def ok(self) -> bool:
        return self.record is not None


class Problems:
    """Collects every error of one unit so the user sees them all at once, not one per upload."""

    def __init__(self, location: str) -> None:
        self.location = location
        self._errors: list[RecordError] = []

    def add(self, field_name: str, reason: str, *, location: str | None = None) -> None:
        self._errors.append(RecordError(location or self.location, field_name, reason))

    @property
    def errors(self) -> tuple[RecordError, ...]:
        return tuple(self._errors)

    def __bool__(self) -> bool:
        return bool(self._errors)

    def item(self, record: ConversationRecord | None) -> ParsedItem:
        """Return the unit's result; a record is only released when nothing was wrong."""
        if record is not None and not self._errors:
            for path in record_nul_paths(record):
                self.add(path, NUL_REASON)
        if self._errors:
            return ParsedItem(self.location, None, self.errors)
        return ParsedItem(self.location, record, ())


# --- value checks -------------------------------------------------------------------------------
# Each check returns the cleaned value, or None after recording a problem.


# --- the canonical shape ----------------------------------------------------------------------
