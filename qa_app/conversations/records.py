"""Validated, database-free records produced by every import format.

Parsers turn vendor files into these frozen dataclasses so the importer (and the tests) only ever
deal with one shape. Validation helpers live here too so every format applies the same rules and
reports problems the same way: every problem of a unit, each with location, field and reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from qa_app.conversations.checks import OUT_OF_RANGE, record_nul_paths, to_utc
from qa_app.untrusted import NUL, NUL_REASON, nul_paths

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


# --- value checks -------------------------------------------------------------------------------
# Each check returns the cleaned value, or None after recording a problem.


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


# --- the canonical shape ----------------------------------------------------------------------


def _valid_message(data: Any) -> MessageRecord | None:
    """The common case, a plainly valid message, without the bookkeeping of the full checks.

    Returns None for anything unusual, which then goes through the full checks; those give the
    same result for valid input and the precise errors for invalid input. Messages are the bulk
    of every import, so this path matters for import speed.
    """
    if type(data) is not dict or data.get("speaker") not in SPEAKERS:
        return None
    text, sent_at, author = data.get("text"), data.get("sent_at"), data.get("author")
    if type(text) is not str or author is not None:
        return None
    text = text.strip()
    if not text or NUL in text:
        return None
    if sent_at is None:
        return MessageRecord(data["speaker"], text)
    if type(sent_at) is not str or len(sent_at) < 16 or "T" not in sent_at:
        return None
    try:
        moment = datetime.fromisoformat(sent_at)
    except ValueError:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None
    in_utc = to_utc(moment)
    return None if in_utc is None else MessageRecord(data["speaker"], text, in_utc)


def message_from_mapping(
    data: Any, problems: Problems, prefix: str, *, location: str | None = None
) -> MessageRecord | None:
    """Validate one canonical message object; ``prefix`` is e.g. ``messages[3].``."""
    fast = _valid_message(data)
    if fast is not None:
        return fast
    if not isinstance(data, dict):
        problems.add(
            prefix.rstrip(".") or "message",
            f"must be an object, got {json_type(data)}",
            location=location,
        )
        return None
    before = len(problems.errors)
    speaker = check_choice(
        data.get("speaker"), SPEAKERS, problems, f"{prefix}speaker", location=location
    )
    text = check_text(data.get("text"), problems, f"{prefix}text", location=location)
    sent_at = check_datetime(
        data.get("sent_at"), problems, f"{prefix}sent_at", required=False, location=location
    )
    author = check_optional_string(
        data.get("author"),
        problems,
        f"{prefix}author",
        max_length=MAX_NAME_LENGTH,
        location=location,
    )
    if len(problems.errors) != before or speaker is None or text is None:
        return None
    return MessageRecord(speaker, text, sent_at, author)


def conversation_from_mapping(
    data: Mapping[str, Any],
    problems: Problems,
    *,
    source: str | None,
    message_locations: Sequence[str] | None = None,
) -> ParsedItem:
    """Validate a conversation in the canonical shape (see docs/conversation-format.md).

    ``source`` overrides the data's own ``source``. With ``message_locations`` (CSV), message
    problems are reported at each message's own location with bare field names.
    """
    if source is not None:
        clean_source = check_identifier(source, problems, "source", max_length=MAX_SOURCE_LENGTH)
    else:
        clean_source = check_identifier(
            data.get("source"), problems, "source", max_length=MAX_SOURCE_LENGTH
        )
    external_id = check_identifier(data.get("external_id"), problems, "external_id")
    channel = check_choice(data.get("channel"), CHANNELS, problems, "channel")
    agent = check_agent(data.get("agent"), problems)
    started_at = check_datetime(data.get("started_at"), problems, "started_at", required=True)
    ended_at = check_datetime(data.get("ended_at"), problems, "ended_at", required=False)
    check_period(started_at, ended_at, problems)
    csat = check_csat(data.get("csat"), problems)
    tags = check_tags(data.get("tags"), problems)
    language = check_optional_string(
        data.get("language"), problems, "language", max_length=MAX_LANGUAGE_LENGTH
    )
    status = check_optional_string(
        data.get("status"), problems, "status", max_length=MAX_STATUS_LENGTH
    )
    metadata = check_metadata(data.get("metadata"), problems)

    raw_messages = data.get("messages")
    messages: list[MessageRecord] = []
    if not isinstance(raw_messages, list):
        reason = (
            "is required"
            if raw_messages is None
            else f"must be an array, got {json_type(raw_messages)}"
        )
        problems.add("messages", reason)
    elif not raw_messages:
        problems.add("messages", "must contain at least one message")
    else:
        for index, raw in enumerate(raw_messages):
            if message_locations is not None:
                message = message_from_mapping(raw, problems, "", location=message_locations[index])
            else:
                message = message_from_mapping(raw, problems, f"messages[{index}].")
            if message is not None:
                messages.append(message)

    if problems:
        return problems.item(None)
    assert clean_source is not None  # guaranteed when no problem was recorded
    assert external_id is not None
    assert channel is not None
    assert started_at is not None
    return problems.item(
        ConversationRecord(
            source=clean_source,
            external_id=external_id,
            channel=channel,
            agent=agent,
            started_at=started_at,
            ended_at=ended_at,
            csat=csat,
            tags=tags,
            language=language,
            status=status,
            metadata=metadata,
            messages=tuple(messages),
        )
    )
