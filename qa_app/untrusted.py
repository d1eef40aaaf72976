"""Checks of untrusted input, the same at every way in: forms, JSON bodies, URLs, imports.

- NUL characters: PostgreSQL cannot store them in text or JSON, so they are refused everywhere,
  naming the field, on SQLite too so that both databases behave alike.
- JSON: one parser for every body and file; nesting deeper than ``MAX_JSON_DEPTH`` is refused
  ("nested too deeply") instead of a RecursionError escaping, here or later when it is stored.
- Ids: the database's id columns are 32-bit integers, so an id outside 1..``MAX_ID`` names
  nothing; parsing it is refused before any query is built with it.

No Flask import: :mod:`qa_app.request_checks` applies these to requests.
"""

from __future__ import annotations

import json
from typing import Any

NUL = "\x00"
NUL_REASON = "contains a NUL character"
MAX_ID = 2**31 - 1
MAX_JSON_DEPTH = 100
TOO_DEEP = "nested too deeply"


class JsonTooDeep(ValueError):
    """The JSON text nests arrays and objects deeper than ``MAX_JSON_DEPTH``."""

    def __init__(self) -> None:
        super().__init__(TOO_DEEP)


def _exceeds_depth(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than ``limit``; iterative, so any depth is safe."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        for child in children:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(text: str | bytes, **options: Any) -> Any:
    """``json.loads`` for untrusted text: every refusal is a ValueError.

    Deep nesting raises :class:`JsonTooDeep` (the depth is only measured when the text has more
    brackets than the limit, which ordinary lines and bodies do not); ``NaN`` and ``Infinity``
    (which JSON does not have and PostgreSQL refuses to store) and numbers of thousands of
    digits raise ``json.JSONDecodeError`` like any other invalid JSON.
    """
    options.setdefault("parse_constant", _refuse_constant)
    try:
        value = json.loads(text, **options)
    except RecursionError:
        raise JsonTooDeep() from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError as error:  # from parse_constant, or int() of a too long number
        document = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        raise json.JSONDecodeError(str(error).split(";")[0], document, 0) from None
    if isinstance(value, dict | list):
        opening = (b"[", b"{") if isinstance(text, bytes) else ("[", "{")
        brackets = text.count(opening[0]) + text.count(opening[1])  # type: ignore[arg-type]
        if brackets > MAX_JSON_DEPTH and _exceeds_depth(value, MAX_JSON_DEPTH):
            raise JsonTooDeep()
    return value


def nul_paths(value: Any, path: str = "") -> list[str]:
    """The paths (``metadata.queue``, ``answers[2]``) of strings and keys holding a NUL, in
    document order; iterative, so any depth is safe."""
    found: list[str] = []
    stack: list[tuple[str, Any, bool]] = [(path, value, False)]
    while stack:
        where, item, bad_key = stack.pop()
        if bad_key or (isinstance(item, str) and NUL in item):
            found.append(where)
        children: list[tuple[str, Any, bool]] = []
        if isinstance(item, dict):
            for key, child in item.items():
                name = str(key)
                shown = name.replace(NUL, "\\0")
                children.append((f"{where}.{shown}" if where else shown, child, NUL in name))
        elif isinstance(item, list | tuple):
            children = [(f"{where}[{index}]", child, False) for index, child in enumerate(item)]
        stack.extend(reversed(children))
    return found


def has_nul(value: Any) -> bool:
    return bool(nul_paths(value))


def is_id(value: Any) -> bool:
    """A whole number (not a boolean) that can be a database id."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID


def parse_id(raw: Any) -> int | None:
    """An id from a JSON number or text of ASCII digits; None for anything else or out of range."""
    if isinstance(raw, str):
        text = raw.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
            return None
        raw = int(text)
    return raw if is_id(raw) else None
