"""The canonical JSON Lines format: one conversation object per line (docs/conversation-format.md).

It is the format of the demo data and the lossless one, so other tools should export to it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TextIO

from qa_app.conversations.canonical import conversation_from_mapping
from qa_app.conversations.field_checks import json_type
from qa_app.conversations.records import ParsedItem, Problems
from qa_app.untrusted import JsonTooDeep, loads


def parse_jsonl(stream: TextIO, *, source: str | None = None) -> Iterator[ParsedItem]:
    """Yield one item per non-blank line, streaming, so imports of any size use little memory.

    ``source`` overrides each line's own ``source`` (which is otherwise required).
    """
    for line_number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        problems = Problems(f"line {line_number}")
        try:
            data = loads(line.rstrip("\r\n"))
        except json.JSONDecodeError as exc:
            problems.add("json", f"invalid JSON: {exc.msg} (column {exc.pos + 1})")
            yield problems.item(None)
            continue
        except JsonTooDeep as exc:
            problems.add("json", f"invalid JSON: {exc}")
            yield problems.item(None)
            continue
        if not isinstance(data, dict):
            problems.add("json", f"must be a JSON object, got {json_type(data)}")
            yield problems.item(None)
            continue
        yield conversation_from_mapping(data, problems, source=source)
