"""Intercom conversations + parts: speakers, channels, CSAT, skipped parts, errors."""

from __future__ import annotations

import copy
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qa_app.conversations.formats import FORMATS, detect_format, open_text
from qa_app.conversations.formats.intercom import parse_intercom
from qa_app.conversations.records import AgentRef, ConversationRecord, MessageRecord
from tests.conversations.intercom_samples import T0, conversation, parse_one

FIXTURE = Path(__file__).parent / "fixtures" / "intercom_conversations.json"


def record_of(data: dict[str, Any]) -> ConversationRecord:
    item = parse_one(data)
    assert item.errors == ()
    assert item.record is not None
    return item.record


def test_list_document() -> None:
    with open_text(FIXTURE) as stream:
        items = list(parse_intercom(stream))
    assert [item.errors for item in items] == [(), ()]
    assert [item.location for item in items] == [
        "conversation 1 (id 1911149811)",
        "conversation 2 (id 1911149812)",
    ]
    first, second = (item.record for item in items)
    assert first is not None
    assert second is not None

    assert (first.source, first.external_id, first.channel) == ("intercom", "1911149811", "chat")
    assert first.agent == AgentRef("intercom-814860", "Ana Lima")
    assert first.csat == 4
    assert first.tags == ("login", "vip")
    assert first.status == "closed"
    assert first.started_at == datetime(2026, 9, 2, 8, tzinfo=UTC)
    assert first.ended_at == datetime(2026, 9, 2, 9, tzinfo=UTC)
    assert first.language is None
    # the assignment event (no body) and the note are skipped; the closing reply is kept
    assert first.messages == (
        MessageRecord(
            "customer",
            "Hi, I can't log in to my account.",
            datetime(2026, 9, 2, 8, tzinfo=UTC),
            "intercom-5ba682d23d7cf92bef87bfd4",
        ),
        MessageRecord(
            "bot",
            "Have you tried resetting your password?",
            datetime(2026, 9, 2, 8, 1, 40, tzinfo=UTC),
            "intercom-1001",
        ),
        MessageRecord(
            "customer",
            "Yes, the reset e-mail never arrives.",
            datetime(2026, 9, 2, 8, 3, 20, tzinfo=UTC),
            "intercom-5ba682d23d7cf92bef87bfd4",
        ),
        MessageRecord(
            "agent",
            "I have re-sent it to your address \u2014 please check spam.",
            datetime(2026, 9, 2, 8, 6, 40, tzinfo=UTC),
            "intercom-814860",
        ),
        MessageRecord(
            "agent",
            "Closing this, glad it works!",
            datetime(2026, 9, 2, 9, tzinfo=UTC),
            "intercom-814860",
        ),
    )
    assert first.metadata == {
        "title": "Cannot log in",
        "source_type": "conversation",
        "delivered_as": "customer_initiated",
        "priority": "not_priority",
        "team_assignee_id": "5017691",
        "updated_at": 1788339600,
        "rating_remark": "Fast",
        "custom_attributes": {"plan": "pro"},
    }

    # unassigned: the first admin who wrote is the agent; e-mail source; no rating
    assert second.channel == "email"
    assert second.agent == AgentRef("intercom-814861", "Ben Okoro")
    assert second.csat is None
    assert second.ended_at is None
    assert second.metadata["subject"] == "Invoice question"
    assert [m.speaker for m in second.messages] == ["customer", "agent"]


def test_json_lines_and_source_override() -> None:
    lines = [conversation(id="1"), conversation(id="2", state="closed"), conversation(id="3")]
    text = "\n".join(json.dumps(line) for line in lines) + "\n\n"
    items = list(parse_intercom(io.StringIO(text), source="ic-eu"))
    assert [item.location for item in items] == [
        "conversation 1 (id 1)",
        "conversation 2 (id 2)",
        "conversation 3 (id 3)",
    ]
    records = [item.record for item in items if item.record]
    assert [r.source for r in records] == ["ic-eu"] * 3
    # closed without statistics: ended at the last part
    assert records[1].ended_at == datetime(2026, 9, 2, 8, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("source_type", "channel"),
    [
        ("conversation", "chat"),
        ("chat", "chat"),
        ("push", "chat"),
        ("email", "email"),
        ("phone_call", "phone"),
        ("call", "phone"),
        ("phone_switch", "phone"),
        ("facebook", "social"),
        ("twitter", "social"),
        ("instagram", "social"),
        ("whatsapp", "messaging"),
        ("sms", "messaging"),
        ("telegram", "messaging"),
        ("brand_new_channel", "chat"),
    ],
)
def test_channel_mapping(source_type: str, channel: str) -> None:
    data = conversation()
    data["source"]["type"] = source_type
    assert record_of(data).channel == channel


@pytest.mark.parametrize(
    ("author_type", "speaker"),
    [
        ("user", "customer"),
        ("lead", "customer"),
        ("contact", "customer"),
        ("admin", "agent"),
        ("team", "agent"),
        ("bot", "bot"),
    ],
)
def test_speaker_mapping(author_type: str, speaker: str) -> None:
    data = conversation()
    data["source"]["author"]["type"] = author_type
    assert record_of(data).messages[0].speaker == speaker


@pytest.mark.parametrize(
    ("rating", "csat"),
    [
        ({"rating": 1}, 1),
        ({"rating": 5}, 5),
        ({"rating": None, "remark": None}, None),
        (None, None),
    ],
)
def test_csat_mapping(rating: dict[str, Any] | None, csat: int | None) -> None:
    assert record_of(conversation(conversation_rating=rating)).csat == csat


def test_agent_prefers_assignee_and_takes_its_name_from_its_messages() -> None:
    data = conversation(admin_assignee_id=9)
    assert record_of(data).agent == AgentRef("intercom-9", "Ana")
    data = conversation(admin_assignee_id=12)
    assert record_of(data).agent == AgentRef("intercom-12", None)
    data = conversation()
    data["conversation_parts"]["conversation_parts"][0]["author"]["type"] = "bot"
    assert record_of(data).agent is None


def test_notes_and_bodiless_parts_are_skipped() -> None:
    parts = [
        {
            "part_type": "note",
            "body": "<p>secret</p>",
            "created_at": T0 + 1,
            "author": {"type": "admin", "id": "9"},
        },
        {
            "part_type": "note_and_reopen",
            "body": "<p>secret</p>",
            "created_at": T0 + 2,
            "author": {"type": "admin", "id": "9"},
        },
        {
            "part_type": "assignment",
            "body": None,
            "created_at": T0 + 3,
            "author": {"type": "admin", "id": "9"},
        },
        {
            "part_type": "open",
            "body": "",
            "created_at": T0 + 4,
            "author": {"type": "user", "id": "u1"},
        },
        {"part_type": "snoozed", "created_at": T0 + 5, "author": {"type": "admin", "id": "9"}},
    ]
    record = record_of(conversation(conversation_parts={"conversation_parts": parts}))
    assert [m.text for m in record.messages] == ["Hello"]


def test_errors_are_all_reported_with_location() -> None:
    data = conversation(created_at="2026-09-02T08:00:00Z", conversation_rating={"rating": 6})
    parts = copy.deepcopy(data["conversation_parts"]["conversation_parts"])
    parts.append(
        {
            "part_type": "comment",
            "body": "<p>x</p>",
            "created_at": -5,
            "author": {"type": "visitor", "id": "v"},
        }
    )
    data["conversation_parts"]["conversation_parts"] = parts
    item = parse_one(data)
    assert item.record is None
    assert [str(error) for error in item.errors] == [
        "conversation 1 (id 77): created_at: must be a UNIX timestamp in seconds,"
        " got '2026-09-02T08:00:00Z'",
        "conversation 1 (id 77): conversation_rating.rating: must be an integer 1-5, got 6",
        "conversation 1 (id 77): conversation_parts[1].created_at: must be a UNIX timestamp in"
        " seconds, got -5",
        "conversation 1 (id 77): conversation_parts[1].author.type: must be one of user, lead,"
        " contact, admin, team, bot, got 'visitor'",
    ]


def test_conversation_without_visible_text_is_an_error() -> None:
    data = conversation(conversation_parts={"conversation_parts": []})
    data["source"]["body"] = "<p> </p>"
    assert [str(e) for e in parse_one(data).errors] == [
        "conversation 1 (id 77): conversation_parts: has no customer-visible message with text",
    ]


def test_invalid_json_line_is_reported_and_parsing_continues() -> None:
    text = json.dumps(conversation()) + '\n{"id": "bad",\n' + json.dumps(conversation(id="78"))
    items = list(parse_intercom(io.StringIO(text)))
    assert [item.location for item in items] == [
        "conversation 1 (id 77)",
        "line 2",
        "conversation 2 (id 78)",
    ]
    assert items[1].errors[0].field == "json"


def test_detect_format_intercom() -> None:
    assert detect_format("dump.json", FIXTURE.read_bytes()) == "intercom"
    assert detect_format("dump.jsonl", json.dumps(conversation()).encode()) == "intercom"
    assert FORMATS["intercom"] is parse_intercom
