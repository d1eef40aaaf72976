"""Zendesk tickets + comments: speakers, channels, CSAT, skipped comments, errors."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qa_app.conversations.formats import FORMATS, detect_format, open_text
from qa_app.conversations.formats.zendesk import parse_zendesk
from qa_app.conversations.records import AgentRef, ConversationRecord, MessageRecord, ParsedItem
from tests.conversations.zendesk_samples import parse_one, ticket

FIXTURES = Path(__file__).parent / "fixtures"


def parse_fixture(name: str, **kwargs: str) -> list[ParsedItem]:
    with open_text(FIXTURES / name) as stream:
        return list(parse_zendesk(stream, **kwargs))


def record_of(data: dict[str, Any]) -> ConversationRecord:
    item = parse_one(data)
    assert item.errors == ()
    assert item.record is not None
    return item.record


def test_document_with_sideloads() -> None:
    items = parse_fixture("zendesk_tickets.json")
    assert [item.errors for item in items] == [(), (), ()]
    assert [item.location for item in items] == [
        "ticket 1 (id 35436)",
        "ticket 2 (id 35437)",
        "ticket 3 (id 35438)",
    ]
    first, second, third = (item.record for item in items)
    assert first is not None
    assert second is not None
    assert third is not None

    assert (first.source, first.external_id, first.channel) == ("zendesk", "35436", "chat")
    assert first.agent == AgentRef("zendesk-235323", "Ana Lima", "Billing")
    assert first.csat == 5
    assert first.tags == ("refund", "billing")
    assert (first.status, first.language) == ("solved", "en-US")
    assert first.started_at == datetime(2026, 9, 1, 8, 15, tzinfo=UTC)
    assert first.ended_at == datetime(2026, 9, 1, 9, 2, 11, tzinfo=UTC)
    # private note and attachment-only comment are skipped; html_body becomes clean text
    assert first.messages == (
        MessageRecord(
            "customer",
            "I was charged twice for order 10023.",
            datetime(2026, 9, 1, 8, 15, tzinfo=UTC),
            "zendesk-20978392",
        ),
        MessageRecord(
            "agent",
            "Sorry about that & thanks for waiting.\nThe refund is on its way\nwithin 5 days.",
            datetime(2026, 9, 1, 8, 25, 30, tzinfo=UTC),
            "zendesk-235323",
        ),
        MessageRecord(
            "system",
            "This ticket was solved automatically.",
            datetime(2026, 9, 1, 9, 2, 11, tzinfo=UTC),
            "zendesk--1",
        ),
    )
    assert first.metadata == {
        "subject": "Refund for a double charge",
        "type": "problem",
        "priority": "high",
        "via_channel": "chat",
        "requester_id": "20978392",
        "group_id": "98738",
        "brand_id": "1001",
        "updated_at": "2026-09-01T09:02:11Z",
        "custom_fields": {"27642": "745"},
    }

    # unassigned ticket: CC'd end-user is a customer, a non-assignee agent is an agent
    assert second.agent is None
    assert second.csat == 1
    assert second.channel == "email"
    assert second.ended_at is None
    assert [m.speaker for m in second.messages] == ["customer", "customer", "agent"]

    # Zendesk documents its times as UTC, so naive times are read as UTC
    assert third.channel == "phone"
    assert third.csat is None
    assert third.started_at == datetime(2026, 9, 3, 12, tzinfo=UTC)
    assert third.ended_at == datetime(2026, 9, 3, 12, 30, tzinfo=UTC)
    assert third.agent == AgentRef("zendesk-235323", "Ana Lima", None)


def test_json_lines_with_errors_reported_per_ticket() -> None:
    items = parse_fixture("zendesk_tickets.jsonl", source="zd-eu")
    assert [item.location for item in items] == [
        "ticket 1 (id 501)",
        "ticket 2 (id 502)",
        "ticket 3 (id 503)",
        "line 5",
    ]
    first, second = items[0].record, items[1].record
    assert first is not None
    assert second is not None
    assert (first.source, first.channel, first.agent) == (
        "zd-eu",
        "messaging",
        AgentRef("zendesk-2"),
    )
    assert (second.channel, second.agent) == ("social", None)
    assert [str(error) for error in items[2].errors] == [
        "ticket 3 (id 503): created_at: must be an ISO 8601 date-time with offset,"
        " got 'not a date'",
        "ticket 3 (id 503): satisfaction_rating.score: must be one of good, good_with_comment,"
        " bad, bad_with_comment, offered, unoffered, got 'great'",
        "ticket 3 (id 503): comments: has no public comment with text",
    ]
    assert items[2].record is None
    assert [str(error) for error in items[3].errors] == [
        "line 5: json: invalid JSON: Expecting ',' delimiter (column 49)",
    ]


@pytest.mark.parametrize(
    ("via", "channel"),
    [
        ("email", "email"),
        ("web", "email"),
        ("api", "email"),
        ("mobile_sdk", "email"),
        ("chat", "chat"),
        ("chat_transcript", "chat"),
        ("web_widget", "chat"),
        ("voice", "phone"),
        ("phone", "phone"),
        ("voicemail", "phone"),
        ("native_messaging", "messaging"),
        ("sms", "messaging"),
        ("whatsapp", "messaging"),
        ("facebook", "social"),
        ("twitter", "social"),
        ("instagram_dm", "social"),
        ("something_new", "email"),
        (None, "email"),
    ],
)
def test_channel_mapping(via: str | None, channel: str) -> None:
    assert record_of(ticket(via={"channel": via})).channel == channel


@pytest.mark.parametrize(
    ("rating", "csat"),
    [
        ({"score": "good"}, 5),
        ({"score": "good_with_comment"}, 5),
        ({"score": "bad"}, 1),
        ({"score": "bad_with_comment"}, 1),
        ({"score": "offered"}, None),
        ({"score": "unoffered"}, None),
        (None, None),
        ({"score": None}, None),
    ],
)
def test_csat_mapping(rating: dict[str, Any] | None, csat: int | None) -> None:
    assert record_of(ticket(satisfaction_rating=rating)).csat == csat


@pytest.mark.parametrize(
    ("comment", "speaker"),
    [
        ({"author_id": 10}, "customer"),
        ({"author_id": 20}, "agent"),
        ({"author_id": 30}, "agent"),
        ({"author_id": -1}, "system"),
        ({"author_id": 20, "via": {"channel": "rule"}}, "system"),
        ({"author_id": 40, "via": {"channel": "answer_bot_for_web_widget"}}, "bot"),
    ],
)
def test_speaker_mapping(comment: dict[str, Any], speaker: str) -> None:
    data = ticket(comments=[{"public": True, "plain_body": "text", **comment}])
    assert record_of(data).messages[0].speaker == speaker


def test_comment_text_prefers_plain_body_then_sanitised_html_then_body() -> None:
    comments = [
        {"author_id": 10, "plain_body": "plain", "html_body": "<p>html</p>", "body": "body"},
        {
            "author_id": 10,
            "html_body": '<p>a &lt;b&gt; &amp; <a href="x">link</a>&nbsp;ok</p>'
            "<style>p{color:red}</style><ul><li>one</li><li>two</li></ul>",
            "body": "body",
        },
        {"author_id": 10, "body": " body only "},
    ]
    texts = [m.text for m in record_of(ticket(comments=comments)).messages]
    assert texts == ["plain", "a <b> & link ok\none\ntwo", "body only"]


def test_private_notes_are_skipped_and_a_ticket_of_only_notes_is_an_error() -> None:
    notes = [{"author_id": 20, "public": False, "plain_body": "internal"}]
    item = parse_one(ticket(comments=notes))
    assert [str(error) for error in item.errors] == [
        "ticket 1 (id 1): comments: has no public comment with text",
    ]


def test_all_ticket_errors_are_reported() -> None:
    data = ticket(id=None, created_at=None, tags="vip", comments={"a": 1})
    item = parse_one(data)
    assert item.location == "ticket 1"
    assert [(error.field, error.reason) for error in item.errors] == [
        ("id", "must be a ticket id, got None"),
        ("created_at", "is required"),
        ("tags", "must be an array of strings, got string"),
        ("comments", "must be an array, got object"),
    ]


def test_missing_comments_explain_how_to_export_them() -> None:
    data = ticket()
    del data["comments"]
    assert [error.reason for error in parse_one(data).errors] == [
        "is required: merge GET /api/v2/tickets/{id}/comments into each ticket",
    ]


def test_single_ticket_response_with_separate_comments() -> None:
    data = ticket()
    comments = data.pop("comments")
    stream = io.StringIO(json.dumps({"ticket": data, "comments": comments}, indent=2))
    items = list(parse_zendesk(stream))
    assert [len(item.record.messages) for item in items if item.record] == [2]


def test_detect_format_zendesk() -> None:
    assert (
        detect_format("export.json", (FIXTURES / "zendesk_tickets.json").read_bytes()) == "zendesk"
    )
    assert detect_format("x.jsonl", (FIXTURES / "zendesk_tickets.jsonl").read_bytes()) == "zendesk"
    assert FORMATS["zendesk"] is parse_zendesk
