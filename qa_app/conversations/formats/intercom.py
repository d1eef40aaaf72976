"""Intercom conversations with their conversation parts, in the shape of Intercom's REST API.

Accepted: ``{"conversations": [...]}`` (a list/search response whose conversations were fetched
with ``GET /conversations/{id}`` so they carry ``conversation_parts``), a bare list, a single
conversation, or JSON Lines with one conversation per line. Only JSON Lines is streamed. The
mapping (speakers, channels, CSAT, what is skipped) is documented in docs/conversation-format.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from qa_app.conversations.field_checks import (
    check_csat,
    check_identifier,
    check_optional_string,
    check_tags,
    describe,
    json_type,
)
from qa_app.conversations.formats._common import html_to_text, id_text, iter_json_units
from qa_app.conversations.records import (
    MAX_NAME_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_STATUS_LENGTH,
    AgentRef,
    ConversationRecord,
    MessageRecord,
    ParsedItem,
    Problems,
)

DEFAULT_SOURCE = "intercom"

# source.type -> our channel; unknown types fall back to chat, Intercom's core channel.
CHANNEL_MAP = {
    "conversation": "chat",
    "chat": "chat",
    "push": "chat",
    "email": "email",
    "phone": "phone",
    "call": "phone",
    "phone_call": "phone",
    "phone_switch": "phone",
    "facebook": "social",
    "twitter": "social",
    "instagram": "social",
    "whatsapp": "messaging",
    "sms": "messaging",
    "telegram": "messaging",
    "line": "messaging",
    "wechat": "messaging",
}
FALLBACK_CHANNEL = "chat"

# author.type -> speaker.
SPEAKER_MAP = {
    "user": "customer",
    "lead": "customer",
    "contact": "customer",
    "admin": "agent",
    "team": "agent",
    "bot": "bot",
}
NOTE_PART_TYPES = frozenset({"note", "note_and_reopen"})


def parse_intercom(stream: TextIO, *, source: str | None = None) -> Iterator[ParsedItem]:
    """Yield one item per conversation; locations are ``conversation N (id X)``."""
    number = 0
    for unit in iter_json_units(stream):
        if unit.error is not None:
            problems = Problems(unit.location)
            problems.add("json", unit.error)
            yield problems.item(None)
            continue
        value = unit.value
        conversations: list[Any]
        if isinstance(value, dict) and "conversations" in value:
            if not isinstance(value["conversations"], list):
                problems = Problems(unit.location)
                problems.add(
                    "conversations", f"must be an array, got {json_type(value['conversations'])}"
                )
                yield problems.item(None)
                continue
            conversations = value["conversations"]
        elif isinstance(value, list):
            conversations = value
        else:
            conversations = [value]
        for conversation in conversations:
            number += 1
            yield _parse_conversation(conversation, number, source)


def map_channel(source_type: Any) -> str:
    """Map ``source.type`` to one of our channels (see CHANNEL_MAP)."""
    if isinstance(source_type, str):
        return CHANNEL_MAP.get(source_type.strip().lower(), FALLBACK_CHANNEL)
    return FALLBACK_CHANNEL


def _timestamp(
    value: Any, problems: Problems, field_name: str, *, required: bool
) -> datetime | None:
    """Intercom times are UNIX timestamps in seconds (UTC by definition)."""
    if value is None:
        if required:
            problems.add(field_name, "is required")
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    problems.add(field_name, f"must be a UNIX timestamp in seconds, got {describe(value)}")
    return None


def _speaker(author: Any, problems: Problems, field_name: str) -> str | None:
    author_type = author.get("type") if isinstance(author, dict) else None
    if isinstance(author_type, str) and author_type.strip().lower() in SPEAKER_MAP:
        return SPEAKER_MAP[author_type.strip().lower()]
    problems.add(
        f"{field_name}.type",
        f"must be one of {', '.join(SPEAKER_MAP)}, got {describe(author_type)}",
    )
    return None


def _body_text(body: Any) -> str:
    return html_to_text(body) if isinstance(body, str) and body.strip() else ""


def _parse_conversation(data: Any, number: int, source: str | None) -> ParsedItem:
    conversation_id = id_text(data.get("id")) if isinstance(data, dict) else None
    problems = Problems(
        f"conversation {number} (id {conversation_id})"
        if conversation_id
        else f"conversation {number}"
    )
    if not isinstance(data, dict):
        problems.add("conversation", f"must be an object, got {json_type(data)}")
        return problems.item(None)

    clean_source = check_identifier(
        source if source is not None else DEFAULT_SOURCE,
        problems,
        "source",
        max_length=MAX_SOURCE_LENGTH,
    )
    if conversation_id is None:
        problems.add("id", f"must be a conversation id, got {describe(data.get('id'))}")
    started_at = _timestamp(data.get("created_at"), problems, "created_at", required=True)
    state = check_optional_string(
        data.get("state"), problems, "state", max_length=MAX_STATUS_LENGTH
    )
    rating = data.get("conversation_rating")
    csat = (
        check_csat(rating.get("rating"), problems, "conversation_rating.rating")
        if isinstance(rating, dict)
        else None
    )
    tag_list = data.get("tags")
    raw_tags = tag_list.get("tags") if isinstance(tag_list, dict) else tag_list
    tags = check_tags(
        [tag.get("name") if isinstance(tag, dict) else tag for tag in raw_tags]
        if isinstance(raw_tags, list)
        else raw_tags,
        problems,
        "tags.tags",
    )

    messages: list[MessageRecord] = []
    admins: list[tuple[str, str | None]] = []  # (id, name) of admin authors, in order
    latest = started_at

    def add_message(body: Any, author: Any, sent_at: datetime | None, field_name: str) -> None:
        text = _body_text(body)
        if not text:
            return
        speaker = _speaker(author, problems, f"{field_name}.author")
        if speaker is None:
            return
        author_id = id_text(author.get("id")) if isinstance(author, dict) else None
        if speaker == "agent" and author_id and str(author.get("type")).lower() == "admin":
            name = author.get("name")
            admins.append((author_id, name.strip() if isinstance(name, str) else None))
        messages.append(
            MessageRecord(speaker, text, sent_at, f"intercom-{author_id}" if author_id else None)
        )

    first = data.get("source")
    if isinstance(first, dict):
        add_message(first.get("body"), first.get("author"), started_at, "source")
    elif first is not None:
        problems.add("source", f"must be an object, got {json_type(first)}")

    parts_container = data.get("conversation_parts")
    parts = (
        parts_container.get("conversation_parts")
        if isinstance(parts_container, dict)
        else parts_container
    )
    if parts is not None and not isinstance(parts, list):
        problems.add("conversation_parts", f"must be an array, got {json_type(parts)}")
        parts = []
    for index, part in enumerate(parts or ()):
        field_name = f"conversation_parts[{index}]"
        if not isinstance(part, dict):
            problems.add(field_name, f"must be an object, got {json_type(part)}")
            continue
        sent_at = _timestamp(
            part.get("created_at"), problems, f"{field_name}.created_at", required=False
        )
        if sent_at is not None and (latest is None or sent_at > latest):
            latest = sent_at
        part_type = str(part.get("part_type") or "").lower()
        if part_type in NOTE_PART_TYPES:
            continue  # internal notes are invisible to the customer
        add_message(part.get("body"), part.get("author"), sent_at, field_name)
    if not messages and not problems:
        problems.add("conversation_parts", "has no customer-visible message with text")

    ended_at: datetime | None = None
    if state == "closed" and started_at is not None:
        statistics = data.get("statistics")
        last_close = statistics.get("last_close_at") if isinstance(statistics, dict) else None
        closed_at = (
            _timestamp(last_close, problems, "statistics.last_close_at", required=False)
            if last_close is not None
            else None
        )
        ended_at = max(started_at, closed_at or latest or started_at)

    agent = _agent(data.get("admin_assignee_id"), admins)
    if problems:
        return problems.item(None)
    assert clean_source is not None  # guaranteed when no problem was recorded
    assert conversation_id is not None
    assert started_at is not None
    return problems.item(
        ConversationRecord(
            source=clean_source,
            external_id=conversation_id,
            channel=map_channel(first.get("type") if isinstance(first, dict) else None),
            agent=agent,
            started_at=started_at,
            ended_at=ended_at,
            csat=csat,
            tags=tags,
            language=None,
            status=state,
            metadata=_metadata(data),
            messages=tuple(messages),
        )
    )


def _agent(assignee: Any, admins: list[tuple[str, str | None]]) -> AgentRef | None:
    """The assigned admin, else the first admin who wrote; names come from their messages."""
    assignee_id = id_text(assignee)
    if assignee_id is None and admins:
        assignee_id = admins[0][0]
    if assignee_id is None:
        return None
    name = next((n for admin_id, n in admins if admin_id == assignee_id and n), None)
    if name is not None and len(name) > MAX_NAME_LENGTH:
        name = name[:MAX_NAME_LENGTH]
    return AgentRef(external_id=f"intercom-{assignee_id}", name=name or None)


def _metadata(data: Mapping[str, Any]) -> dict[str, Any]:
    """Keep what reviewers filter on and what traces a record back to Intercom."""
    source = data.get("source")
    first: Mapping[str, Any] = source if isinstance(source, dict) else {}
    rating = data.get("conversation_rating")
    metadata: dict[str, Any] = {
        "title": data.get("title"),
        "source_type": first.get("type"),
        "delivered_as": first.get("delivered_as"),
        "subject": first.get("subject") or None,
        "priority": data.get("priority"),
        "team_assignee_id": id_text(data.get("team_assignee_id")),
        "updated_at": data.get("updated_at"),
        "rating_remark": rating.get("remark") if isinstance(rating, dict) else None,
    }
    custom = data.get("custom_attributes")
    if isinstance(custom, dict) and custom:
        metadata["custom_attributes"] = custom
    return {key: value for key, value in metadata.items() if value not in (None, "")}
