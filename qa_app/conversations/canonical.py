"""The canonical JSON object (JSON Lines, the API) mapped to a record, with every problem of the
unit reported at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from qa_app.conversations.checks import to_utc
from qa_app.conversations.field_checks import (
    check_agent,
    check_choice,
    check_csat,
    check_datetime,
    check_identifier,
    check_metadata,
    check_optional_string,
    check_period,
    check_tags,
    check_text,
    json_type,
)
from qa_app.conversations.records import (
    CHANNELS,
    MAX_LANGUAGE_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_STATUS_LENGTH,
    SPEAKERS,
    ConversationRecord,
    MessageRecord,
    ParsedItem,
    Problems,
)
from qa_app.untrusted import NUL


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
