"""Checks that every import format's records pass, whatever the parser did before them.

The value checks of :mod:`qa_app.conversations.field_checks` name each field as the file does; this
module is the backstop for what parsers build from vendor fields without those checks (comment
bodies, sideloaded names, metadata), so that no record with a NUL character (which PostgreSQL
cannot store) or a time beyond the calendar is ever written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from qa_app.untrusted import NUL, nul_paths

if TYPE_CHECKING:
    from qa_app.conversations.records import ConversationRecord

_TEXT_FIELDS = ("source", "external_id", "channel", "language", "status")
_AGENT_FIELDS = ("external_id", "name", "team", "partner")
OUT_OF_RANGE = "is out of range once converted to UTC (years 1 to 9999)"


def to_utc(moment: datetime) -> datetime | None:
    """An aware time in UTC; None when that falls outside years 1-9999
    (``9999-12-31T23:00:00-12:00``, ``0001-01-01T00:00:00+14:00``)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def record_nul_paths(record: ConversationRecord) -> list[str]:
    """The record's fields holding a NUL character, named as in the canonical format."""
    found = [name for name in _TEXT_FIELDS if NUL in (getattr(record, name) or "")]
    if record.agent is not None:
        found += [
            f"agent.{name}" for name in _AGENT_FIELDS if NUL in (getattr(record.agent, name) or "")
        ]
    found += [f"tags[{index}]" for index, tag in enumerate(record.tags) if NUL in tag]
    found += nul_paths(record.metadata, "metadata")
    for index, message in enumerate(record.messages):
        if NUL in message.text:
            found.append(f"messages[{index}].text")
        if message.author is not None and NUL in message.author:
            found.append(f"messages[{index}].author")
    return found
