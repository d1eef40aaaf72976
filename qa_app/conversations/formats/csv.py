"""CSV with one row per message, the format spreadsheets and BI tools can produce.

Rows of a conversation must be consecutive so the file can be streamed with one conversation in
memory at a time. The column mapping is documented in docs/conversation-format.md.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from qa_app.conversations.canonical import conversation_from_mapping
from qa_app.conversations.field_checks import describe
from qa_app.conversations.records import ParsedItem, Problems

DEFAULT_SOURCE = "csv"
CONVERSATION_COLUMNS = (
    "source",
    "channel",
    "agent_id",
    "agent_name",
    "team",
    "partner",
    "started_at",
    "ended_at",
    "csat",
    "tags",
    "language",
    "status",
)
MESSAGE_COLUMNS = ("speaker", "author", "sent_at", "text")
REQUIRED_COLUMNS = ("conversation_id", "channel", "speaker", "text")
KNOWN_COLUMNS = ("conversation_id", *CONVERSATION_COLUMNS, *MESSAGE_COLUMNS)

_TAG_SEPARATOR = re.compile(r"[;|]")
_INTEGER = re.compile(r"[+-]?\d+")


@dataclass
class _Row:
    number: int
    values: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)


def parse_csv(stream: TextIO, *, source: str | None = None) -> Iterator[ParsedItem]:
    """Yield one item per conversation (group of consecutive rows with one conversation_id).

    Locations are ``row N``: the file line on which the row starts, the header being row 1.
    Open the stream with ``newline=""`` (``open_text`` does) so quoted multi-line texts work.
    """
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        yield _header_error("the file is empty; a header row is required")
        return
    except csv.Error as exc:
        yield _header_error(f"unreadable CSV: {exc}")
        return
    columns = [cell.strip().lstrip("\ufeff").lower() for cell in header]
    duplicates = sorted({name for name in columns if name and columns.count(name) > 1})
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if duplicates or missing:
        reasons = []
        if missing:
            reasons.append(f"missing required column(s): {', '.join(missing)}")
        if duplicates:
            reasons.append(f"duplicate column(s): {', '.join(duplicates)}")
        yield _header_error("; ".join(reasons))
        return

    positions = {name: columns.index(name) for name in KNOWN_COLUMNS if name in columns}
    group: list[_Row] = []
    first_rows: dict[str, int] = {}  # conversation_id -> first row, to catch non-consecutive rows

    while True:
        row_number = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if group:
                yield _build(group, source, first_rows)
            problems = Problems(f"row {row_number}")
            problems.add("csv", f"unreadable CSV, import stopped here: {exc}")
            yield problems.item(None)
            return
        if not cells:
            continue  # blank line
        row = _Row(
            row_number,
            {name: cells[index] if index < len(cells) else "" for name, index in positions.items()},
        )
        if len(cells) != len(columns):
            row.problems.append(
                ("row", f"has {len(cells)} cells but the header has {len(columns)}")
            )
        conversation_id = row.values["conversation_id"].strip()
        if not conversation_id:
            problems = Problems(f"row {row_number}")
            problems.add("conversation_id", "is required")
            yield problems.item(None)
            continue
        if group and group[0].values["conversation_id"].strip() != conversation_id:
            yield _build(group, source, first_rows)
            group = []
        group.append(row)
    if group:
        yield _build(group, source, first_rows)


def _header_error(reason: str) -> ParsedItem:
    problems = Problems("row 1")
    problems.add("header", reason)
    return problems.item(None)


def _integer_or_text(value: str) -> Any:
    """CSV cells are text; integers are converted so the shared validator can range-check."""
    if not value:
        return None
    return int(value) if _INTEGER.fullmatch(value) else value


def _build(group: list[_Row], source: str | None, first_rows: dict[str, int]) -> ParsedItem:
    first = group[0]
    conversation_id = first.values["conversation_id"].strip()
    problems = Problems(f"row {first.number}")
    if conversation_id in first_rows:
        problems.add(
            "conversation_id",
            f"{describe(conversation_id)} already appeared at row {first_rows[conversation_id]};"
            " the rows of a conversation must be consecutive",
        )
    else:
        first_rows[conversation_id] = first.number

    conversation = {name: first.values.get(name, "").strip() for name in CONVERSATION_COLUMNS}
    for row in group:
        for field_name, reason in row.problems:
            problems.add(field_name, reason, location=f"row {row.number}")
    for row in group[1:]:
        for name in CONVERSATION_COLUMNS:
            value = row.values.get(name, "").strip()
            if value and value != conversation[name]:
                problems.add(
                    name,
                    f"{describe(value)} contradicts {describe(conversation[name])} from row"
                    f" {first.number} (repeat conversation-level values identically or leave"
                    " them empty)",
                    location=f"row {row.number}",
                )

    agent: dict[str, Any] | None = None
    if conversation["agent_id"]:
        agent = {
            "external_id": conversation["agent_id"],
            "name": conversation["agent_name"] or None,
            "team": conversation["team"] or None,
            "partner": conversation["partner"] or None,
        }
    elif conversation["agent_name"] or conversation["team"] or conversation["partner"]:
        problems.add("agent_id", "is required when agent_name, team or partner is given")

    messages = [
        {
            "speaker": row.values.get("speaker", "").strip() or None,
            "text": row.values.get("text", ""),
            "sent_at": row.values.get("sent_at", "").strip() or None,
            "author": row.values.get("author", "").strip() or None,
        }
        for row in group
    ]
    data: dict[str, Any] = {
        "source": conversation["source"] or DEFAULT_SOURCE,
        "external_id": conversation_id,
        "channel": conversation["channel"] or None,
        "agent": agent,
        "started_at": conversation["started_at"] or messages[0]["sent_at"],
        "ended_at": conversation["ended_at"] or None,
        "csat": _integer_or_text(conversation["csat"]),
        "tags": _TAG_SEPARATOR.split(conversation["tags"]) if conversation["tags"] else [],
        "language": conversation["language"] or None,
        "status": conversation["status"] or None,
        "messages": messages,
    }
    return conversation_from_mapping(
        data,
        problems,
        source=source,
        message_locations=[f"row {row.number}" for row in group],
    )
