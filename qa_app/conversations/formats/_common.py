"""Helpers shared by the vendor parsers: JSON document/JSON Lines reading and HTML to text."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from typing import Any, TextIO

import nh3

from qa_app.conversations.limits import InputTooLarge, setting
from qa_app.untrusted import JsonTooDeep, loads

_BLOCK_END = re.compile(
    r"<\s*(?:br|hr)\b[^>]*>|<\s*/\s*(?:p|div|li|h[1-6]|tr|blockquote|pre|ul|ol|table)\s*>",
    re.IGNORECASE,
)
_BLANK_RUN = re.compile(r"\n{3,}")


def html_to_text(html: str) -> str:
    """Turn a helpdesk HTML body into plain text, keeping paragraph breaks.

    nh3 (a real HTML parser) strips every tag and drops script/style content, which regexes
    cannot do safely; entities are unescaped afterwards so the text reads as the customer saw it.
    """
    with_breaks = _BLOCK_END.sub("\n", html)
    stripped = nh3.clean(with_breaks, tags=set(), clean_content_tags={"script", "style"})
    text = unescape(stripped)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class JsonUnit:
    """One parsed JSON value from a file, or the reason it could not be parsed."""

    location: str
    value: Any
    error: str | None = None


def _decode_error(exc: json.JSONDecodeError | JsonTooDeep) -> str:
    if isinstance(exc, JsonTooDeep):
        return f"invalid JSON: {exc}"
    return f"invalid JSON: {exc.msg} (column {exc.pos + 1})"


def _rest_of_document(stream: TextIO, read: int) -> str:
    """The rest of a JSON document read whole, up to the limit of a JSON document."""
    limit = setting("QA_API_MAX_JSON_BYTES")
    rest = stream.read(max(0, limit - read) + 1)
    if read + len(rest) > limit:
        raise InputTooLarge(
            f"the JSON document is longer than {limit:,} characters, the most read whole;"
            " export JSON Lines instead"
        )
    return rest


def iter_json_units(stream: TextIO) -> Iterator[JsonUnit]:
    """Yield the values of a JSON Lines stream, or the single value of a JSON document.

    JSON Lines is read line by line (streaming). A file whose first non-blank line is not a
    complete JSON value is taken to be one (pretty-printed) JSON document and is read whole.
    """
    line_number = 0
    first = ""
    for raw in stream:
        line_number += 1
        if raw.strip():
            first = raw
            break
    if not first:
        return
    try:
        value = loads(first.rstrip("\r\n"))
    except JsonTooDeep as exc:
        yield JsonUnit(f"line {line_number}", None, _decode_error(exc))
    except json.JSONDecodeError as exc:
        stripped = first.strip()
        if stripped.startswith("{") and stripped.endswith("}"):
            # A broken JSON Lines record: report it and keep streaming the next lines.
            yield JsonUnit(f"line {line_number}", None, _decode_error(exc))
        else:
            document = first + _rest_of_document(stream, len(first))
            try:
                yield JsonUnit("document", loads(document))
            except JsonTooDeep as exc:
                yield JsonUnit("document", None, _decode_error(exc))
            except json.JSONDecodeError as doc_exc:
                yield JsonUnit(
                    f"line {line_number + doc_exc.lineno - 1}",
                    None,
                    f"invalid JSON: {doc_exc.msg} (column {doc_exc.colno})",
                )
            return
    else:
        yield JsonUnit(f"line {line_number}", value)
    for raw in stream:
        line_number += 1
        if not raw.strip():
            continue
        try:
            yield JsonUnit(f"line {line_number}", loads(raw.rstrip("\r\n")))
        except (json.JSONDecodeError, JsonTooDeep) as exc:
            yield JsonUnit(f"line {line_number}", None, _decode_error(exc))


def id_text(value: Any) -> str | None:
    """Vendor ids are numbers or strings; both become strings, anything else is refused."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None
