"""The value checks every import format applies to what it reads (identifiers, choices, CSAT,
times, texts, tags, metadata, the agent), naming the field as the file does."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from qa_app.conversations.checks import OUT_OF_RANGE, to_utc
from qa_app.conversations.records import (
    MAX_EXTERNAL_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TAG_LENGTH,
    AgentRef,
    Problems,
)
from qa_app.untrusted import NUL, NUL_REASON, nul_paths


def describe(value: Any) -> str:
    """Short, safe rendering of an offending value for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def json_type(value: Any) -> str:
    """The JSON name of a value's type, which is what users of the formats know."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def check_identifier(
    value: Any,
    problems: Problems,
    field_name: str,
    *,
    max_length: int = MAX_EXTERNAL_ID_LENGTH,
    location: str | None = None,
) -> str | None:
    """Identifiers must be non-empty strings; numbers are rejected so ids are never reformatted."""
    if not isinstance(value, str):
        reason = "is required" if value is None else f"must be a string, got {json_type(value)}"
        problems.add(field_name, reason, location=location)
        return None
    cleaned = value.strip()
    if not cleaned:
        problems.add(field_name, "must not be empty", location=location)
        return None
    if NUL in cleaned:
        problems.add(field_name, NUL_REASON, location=location)
        return None
    if len(cleaned) > max_length:
        problems.add(
            field_name,
            f"must be at most {max_length} characters, got {len(cleaned)}",
            location=location,
        )
        return None
    return cleaned


def check_choice(
    value: Any,
    choices: Sequence[str],
    problems: Problems,
    field_name: str,
    *,
    location: str | None = None,
) -> str | None:
    """Closed vocabularies (channel, speaker) are matched case-insensitively, stored lower-case."""
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    if value is None or value == "":
        problems.add(field_name, f"is required (one of {', '.join(choices)})", location=location)
    else:
        problems.add(
            field_name,
            f"must be one of {', '.join(choices)}, got {describe(value)}",
            location=location,
        )
    return None


def check_csat(
    value: Any, problems: Problems, field_name: str = "csat", *, location: str | None = None
) -> int | None:
    """CSAT is null or an integer 1-5; booleans and floats are refused to catch mapping mistakes."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5:
        return value
    problems.add(field_name, f"must be an integer 1-5, got {describe(value)}", location=location)
    return None


def parse_datetime(value: str) -> datetime | None:
    """Parse ISO 8601 (``Z`` allowed); returns None when the text is not a date-time at all."""
    text = value.strip()
    if len(text) < 16 or "T" not in text.upper() and " " not in text:
        return None  # a bare date is not a moment; refuse rather than guess midnight
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def check_datetime(
    value: Any,
    problems: Problems,
    field_name: str,
    *,
    required: bool,
    naive_is_utc: bool = False,
    location: str | None = None,
) -> datetime | None:
    """Accept aware datetimes or ISO 8601 strings with an offset and normalise them to UTC.

    Naive times are ambiguous across agents' time zones, so they are rejected unless the vendor
    documents them as UTC (``naive_is_utc``).
    """
    if value is None or value == "":
        if required:
            problems.add(field_name, "is required", location=location)
        return None
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            problems.add(
                field_name,
                f"must be an ISO 8601 date-time with offset, got {describe(value)}",
                location=location,
            )
            return None
    else:
        problems.add(
            field_name,
            f"must be an ISO 8601 date-time string, got {json_type(value)}",
            location=location,
        )
        return None
    assert parsed is not None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        if not naive_is_utc:
            problems.add(
                field_name,
                f"must include a UTC offset such as +00:00 or Z, got {describe(value)}",
                location=location,
            )
            return None
        parsed = parsed.replace(tzinfo=UTC)
    moment = to_utc(parsed)
    if moment is None:
        problems.add(field_name, f"{OUT_OF_RANGE}, got {describe(value)}", location=location)
    return moment


def check_optional_string(
    value: Any,
    problems: Problems,
    field_name: str,
    *,
    max_length: int,
    location: str | None = None,
) -> str | None:
    """Optional short text: null/empty means absent; anything else must be a short string."""
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(field_name, f"must be a string, got {json_type(value)}", location=location)
        return None
    cleaned = value.strip()
    if not cleaned:
        return None
    if NUL in cleaned:
        problems.add(field_name, NUL_REASON, location=location)
        return None
    if len(cleaned) > max_length:
        problems.add(
            field_name,
            f"must be at most {max_length} characters, got {len(cleaned)}",
            location=location,
        )
        return None
    return cleaned


def normalise_tags(raw: Iterable[str]) -> tuple[str, ...]:
    """Strip, lower-case and de-duplicate, keeping first-seen order; empty tags are dropped."""
    seen: dict[str, None] = {}
    for tag in raw:
        cleaned = tag.strip().lower()
        if cleaned:
            seen.setdefault(cleaned, None)
    return tuple(seen)


def check_tags(
    value: Any, problems: Problems, field_name: str = "tags", *, location: str | None = None
) -> tuple[str, ...]:
    """Tags are an array of strings; invalid entries are reported individually."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        problems.add(
            field_name, f"must be an array of strings, got {json_type(value)}", location=location
        )
        return ()
    valid: list[str] = []
    for index, tag in enumerate(value):
        if not isinstance(tag, str):
            problems.add(
                f"{field_name}[{index}]",
                f"must be a string, got {json_type(tag)}",
                location=location,
            )
        elif NUL in tag:
            problems.add(f"{field_name}[{index}]", NUL_REASON, location=location)
        elif len(tag.strip()) > MAX_TAG_LENGTH:
            problems.add(
                f"{field_name}[{index}]",
                f"must be at most {MAX_TAG_LENGTH} characters, got {len(tag.strip())}",
                location=location,
            )
        else:
            valid.append(tag)
    return normalise_tags(valid)


def check_metadata(
    value: Any, problems: Problems, field_name: str = "metadata", *, location: str | None = None
) -> dict[str, Any]:
    """Free-form extra data must at least be a JSON object so it can be stored as one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.add(
            field_name, f"must be a JSON object, got {json_type(value)}", location=location
        )
        return {}
    unstorable = nul_paths(value, field_name)
    for path in unstorable:
        problems.add(path, NUL_REASON, location=location)
    return {} if unstorable else dict(value)


def check_text(
    value: Any, problems: Problems, field_name: str, *, location: str | None = None
) -> str | None:
    """Message text must be a string with visible content; an empty turn cannot be reviewed."""
    if not isinstance(value, str):
        reason = "is required" if value is None else f"must be a string, got {json_type(value)}"
        problems.add(field_name, reason, location=location)
        return None
    if not value.strip():
        problems.add(field_name, "must not be empty", location=location)
        return None
    if NUL in value:
        problems.add(field_name, NUL_REASON, location=location)
        return None
    return value.strip()


def check_agent(
    value: Any, problems: Problems, field_name: str = "agent", *, location: str | None = None
) -> AgentRef | None:
    """The agent is null, an external id string, or an object ``{external_id, name, team,
    partner}``."""
    if value is None:
        return None
    if isinstance(value, str):
        agent_id = check_identifier(value, problems, field_name, location=location)
        return AgentRef(agent_id) if agent_id else None
    if not isinstance(value, dict):
        problems.add(
            field_name, f"must be an object or a string, got {json_type(value)}", location=location
        )
        return None
    before = len(problems.errors)
    agent_id = check_identifier(
        value.get("external_id"), problems, f"{field_name}.external_id", location=location
    )
    parts = {
        key: check_optional_string(
            value.get(key),
            problems,
            f"{field_name}.{key}",
            max_length=MAX_NAME_LENGTH,
            location=location,
        )
        for key in ("name", "team", "partner")
    }
    if agent_id is None or len(problems.errors) != before:
        return None
    return AgentRef(agent_id, parts["name"], parts["team"], parts["partner"])


def check_period(
    started_at: datetime | None,
    ended_at: datetime | None,
    problems: Problems,
    field_name: str = "ended_at",
    *,
    location: str | None = None,
) -> None:
    """A conversation cannot end before it starts; catches swapped columns and zone mistakes."""
    if started_at is not None and ended_at is not None and ended_at < started_at:
        problems.add(
            field_name,
            f"must not be before started_at ({ended_at.isoformat()} < {started_at.isoformat()})",
            location=location,
        )
