"""Zendesk tickets with their comments, in the shapes of Zendesk's public REST API.

Accepted: a JSON document ``{"tickets": [...], "users": [...], "groups": [...]}`` (a tickets list
response with the ``users``/``groups`` sideloads, each ticket carrying the ``comments`` array of
``GET /api/v2/tickets/{id}/comments``), a bare list of tickets, ``{"ticket": {...}, "comments":
[...]}``, or JSON Lines with one ticket (or one such page) per line. Only JSON Lines is streamed.
The mapping (speakers, channels, CSAT, what is skipped) is documented in
docs/conversation-format.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, TextIO

from qa_app.conversations.field_checks import (
    check_datetime,
    check_identifier,
    check_optional_string,
    check_tags,
    describe,
    json_type,
)
from qa_app.conversations.formats._common import html_to_text, id_text, iter_json_units
from qa_app.conversations.records import (
    MAX_LANGUAGE_LENGTH,
    MAX_SOURCE_LENGTH,
    MAX_STATUS_LENGTH,
    AgentRef,
    ConversationRecord,
    MessageRecord,
    ParsedItem,
    Problems,
)

DEFAULT_SOURCE = "zendesk"

# via.channel -> our channel. Ticket channels without a live conversation (web form, API,
# mobile SDK, closed-ticket follow-ups, ...) behave like e-mail, which is the fallback.
CHANNEL_MAP = {
    "email": "email",
    "web": "email",
    "api": "email",
    "mobile": "email",
    "mobile_sdk": "email",
    "chat": "chat",
    "chat_transcript": "chat",
    "web_widget": "chat",
    "voice": "phone",
    "phone": "phone",
    "phone_call_inbound": "phone",
    "phone_call_outbound": "phone",
    "voicemail": "phone",
    "native_messaging": "messaging",
    "sms": "messaging",
    "whatsapp": "messaging",
    "line": "messaging",
    "wechat": "messaging",
    "telegram": "messaging",
    "messagebird_sms": "messaging",
    "apple_business_chat": "messaging",
    "google_rcs": "messaging",
    "facebook": "social",
    "facebook_messenger": "social",
    "twitter": "social",
    "twitter_dm": "social",
    "instagram_dm": "social",
}
FALLBACK_CHANNEL = "email"

# satisfaction_rating.score -> CSAT. Zendesk's binary rating maps to the ends of our 1-5 scale.
SCORE_MAP: dict[str, int | None] = {
    "good": 5,
    "good_with_comment": 5,
    "bad": 1,
    "bad_with_comment": 1,
    "offered": None,
    "unoffered": None,
}
SYSTEM_VIA = frozenset({"rule", "system", "automation"})
ENDED_STATUSES = frozenset({"solved", "closed"})


def parse_zendesk(stream: TextIO, *, source: str | None = None) -> Iterator[ParsedItem]:
    """Yield one item per ticket; locations are ``ticket N (id X)`` counting tickets from 1."""
    users: dict[str, Mapping[str, Any]] = {}
    groups: dict[str, str] = {}
    ticket_number = 0
    for unit in iter_json_units(stream):
        if unit.error is not None:
            problems = Problems(unit.location)
            problems.add("json", unit.error)
            yield problems.item(None)
            continue
        value = unit.value
        tickets: list[Any]
        if isinstance(value, dict) and "tickets" in value:
            _load_sideloads(value, users, groups)
            if not isinstance(value["tickets"], list):
                problems = Problems(unit.location)
                problems.add("tickets", f"must be an array, got {json_type(value['tickets'])}")
                yield problems.item(None)
                continue
            tickets = value["tickets"]
        elif isinstance(value, dict) and isinstance(value.get("ticket"), dict):
            _load_sideloads(value, users, groups)
            ticket = dict(value["ticket"])
            if "comments" not in ticket and "comments" in value:
                ticket["comments"] = value["comments"]
            tickets = [ticket]
        elif isinstance(value, list):
            tickets = value
        else:
            tickets = [value]
        for ticket in tickets:
            ticket_number += 1
            yield _parse_ticket(ticket, ticket_number, users, groups, source)


def _load_sideloads(
    page: Mapping[str, Any], users: dict[str, Mapping[str, Any]], groups: dict[str, str]
) -> None:
    """Remember sideloaded users (names, roles, locales) and groups (team names) by id."""
    for user in page.get("users") or ():
        if isinstance(user, dict) and (user_id := id_text(user.get("id"))):
            users[user_id] = user
    for group in page.get("groups") or ():
        if isinstance(group, dict) and (group_id := id_text(group.get("id"))):
            name = group.get("name")
            if isinstance(name, str) and name.strip():
                groups[group_id] = name.strip()


def map_channel(via_channel: Any) -> str:
    """Map ``via.channel`` to one of our channels (see CHANNEL_MAP)."""
    if isinstance(via_channel, str):
        key = via_channel.strip().lower()
        if key in CHANNEL_MAP:
            return CHANNEL_MAP[key]
        if key.startswith("chat"):
            return "chat"
    return FALLBACK_CHANNEL


def _csat(rating: Any, problems: Problems) -> int | None:
    if rating is None:
        return None
    if not isinstance(rating, dict):
        problems.add("satisfaction_rating", f"must be an object, got {json_type(rating)}")
        return None
    score = rating.get("score")
    if score is None:
        return None
    if isinstance(score, str) and score.strip().lower() in SCORE_MAP:
        return SCORE_MAP[score.strip().lower()]
    problems.add(
        "satisfaction_rating.score",
        f"must be one of {', '.join(SCORE_MAP)}, got {describe(score)}",
    )
    return None


def _comment_text(comment: Mapping[str, Any]) -> str:
    """Prefer the plain-text rendering; fall back to sanitised HTML, then the raw body."""
    plain = comment.get("plain_body")
    if isinstance(plain, str) and plain.strip():
        return plain.strip()
    html = comment.get("html_body")
    if isinstance(html, str) and html.strip():
        return html_to_text(html)
    body = comment.get("body")
    return body.strip() if isinstance(body, str) else ""


def _via_channel(value: Any) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("channel"), str):
        return str(value["channel"]).strip().lower()
    return None


def comment_speaker(
    author_id: str | None,
    requester_id: str | None,
    users: Mapping[str, Mapping[str, Any]],
    via_channel: str | None,
) -> str:
    """Decide who wrote a public comment.

    System first (author -1 or trigger/automation comments), then bots (Answer Bot), then the
    requester, then an ``end-user`` role from the ``users`` sideload (a CC'd customer). Any other
    public comment (the assignee, another agent) counts as agent: without the sideload Zendesk
    gives no role, and public comments by people other than the requester are staff replies.
    """
    if author_id == "-1" or via_channel in SYSTEM_VIA:
        return "system"
    if via_channel is not None and via_channel.startswith("answer_bot"):
        return "bot"
    if author_id is not None and author_id == requester_id:
        return "customer"
    role = users.get(author_id or "", {}).get("role")
    if role == "end-user":
        return "customer"
    return "agent"


def _parse_ticket(
    ticket: Any,
    number: int,
    users: Mapping[str, Mapping[str, Any]],
    groups: Mapping[str, str],
    source: str | None,
) -> ParsedItem:
    ticket_id = id_text(ticket.get("id")) if isinstance(ticket, dict) else None
    problems = Problems(f"ticket {number} (id {ticket_id})" if ticket_id else f"ticket {number}")
    if not isinstance(ticket, dict):
        problems.add("ticket", f"must be an object, got {json_type(ticket)}")
        return problems.item(None)

    clean_source = check_identifier(
        source if source is not None else DEFAULT_SOURCE,
        problems,
        "source",
        max_length=MAX_SOURCE_LENGTH,
    )
    if ticket_id is None:
        problems.add("id", f"must be a ticket id, got {describe(ticket.get('id'))}")
    started_at = check_datetime(
        ticket.get("created_at"), problems, "created_at", required=True, naive_is_utc=True
    )
    requester_id = id_text(ticket.get("requester_id"))
    assignee_id = id_text(ticket.get("assignee_id"))
    via_channel = _via_channel(ticket.get("via"))
    csat = _csat(ticket.get("satisfaction_rating"), problems)
    tags = check_tags(ticket.get("tags"), problems)
    status = check_optional_string(
        ticket.get("status"), problems, "status", max_length=MAX_STATUS_LENGTH
    )

    messages: list[MessageRecord] = []
    comments = ticket.get("comments")
    if not isinstance(comments, list):
        reason = (
            "is required: merge GET /api/v2/tickets/{id}/comments into each ticket"
            if comments is None
            else f"must be an array, got {json_type(comments)}"
        )
        problems.add("comments", reason)
    else:
        for index, comment in enumerate(comments):
            prefix = f"comments[{index}]"
            if not isinstance(comment, dict):
                problems.add(prefix, f"must be an object, got {json_type(comment)}")
                continue
            if comment.get("public") is False:
                continue  # internal notes were never part of the conversation with the customer
            sent_at = check_datetime(
                comment.get("created_at"),
                problems,
                f"{prefix}.created_at",
                required=False,
                naive_is_utc=True,
            )
            text = _comment_text(comment)
            if not text:
                continue  # attachment-only comments have nothing to review
            author_id = id_text(comment.get("author_id"))
            speaker = comment_speaker(
                author_id, requester_id, users, _via_channel(comment.get("via"))
            )
            author = f"zendesk-{author_id}" if author_id else None
            messages.append(MessageRecord(speaker, text, sent_at, author))
        if not messages:
            problems.add("comments", "has no public comment with text")

    ended_at: datetime | None = None
    if status in ENDED_STATUSES and started_at is not None:
        times = [m.sent_at for m in messages if m.sent_at is not None]
        ended_at = max([started_at, *times])

    agent = None
    if assignee_id is not None:
        assignee = users.get(assignee_id, {})
        name = assignee.get("name")
        group_id = id_text(ticket.get("group_id"))
        agent = AgentRef(
            external_id=f"zendesk-{assignee_id}",
            name=name.strip() if isinstance(name, str) and name.strip() else None,
            team=groups.get(group_id) if group_id else None,
        )
    locale = users.get(requester_id or "", {}).get("locale")
    language = (
        locale.strip()
        if isinstance(locale, str) and locale.strip() and len(locale.strip()) <= MAX_LANGUAGE_LENGTH
        else None
    )

    if problems:
        return problems.item(None)
    assert clean_source is not None  # guaranteed when no problem was recorded
    assert ticket_id is not None
    assert started_at is not None
    return problems.item(
        ConversationRecord(
            source=clean_source,
            external_id=ticket_id,
            channel=map_channel(via_channel),
            agent=agent,
            started_at=started_at,
            ended_at=ended_at,
            csat=csat,
            tags=tags,
            language=language,
            status=status,
            metadata=_metadata(ticket, via_channel, requester_id),
            messages=tuple(messages),
        )
    )


def _metadata(
    ticket: Mapping[str, Any], via_channel: str | None, requester_id: str | None
) -> dict[str, Any]:
    """Keep the ticket fields reviewers filter on; raw ids stay so records can be traced back."""
    metadata: dict[str, Any] = {
        "subject": ticket.get("subject"),
        "type": ticket.get("type"),
        "priority": ticket.get("priority"),
        "via_channel": via_channel,
        "requester_id": requester_id,
        "group_id": id_text(ticket.get("group_id")),
        "brand_id": id_text(ticket.get("brand_id")),
        "updated_at": ticket.get("updated_at"),
    }
    custom: dict[str, Any] = {}
    for entry in ticket.get("custom_fields") or ():
        if isinstance(entry, dict) and entry.get("value") not in (None, "", []):
            field_id = id_text(entry.get("id"))
            if field_id:
                custom[field_id] = entry["value"]
    if custom:
        metadata["custom_fields"] = custom
    return {key: value for key, value in metadata.items() if value is not None}
