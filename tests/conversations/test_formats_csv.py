"""CSV import: one row per message, grouped by consecutive conversation_id."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from qa_app.conversations.formats import FORMATS, detect_format, open_text
from qa_app.conversations.formats.csv import parse_csv
from qa_app.conversations.records import AgentRef, MessageRecord, ParsedItem, RecordError

FIXTURE = Path(__file__).parent / "fixtures" / "conversations.csv"
HEADER = "conversation_id,channel,started_at,csat,tags,speaker,sent_at,text\n"


def parse(text: str, **kwargs: str) -> list[ParsedItem]:
    return list(parse_csv(io.StringIO(text, newline=""), **kwargs))


def errors(items: list[ParsedItem]) -> list[str]:
    return [str(error) for item in items for error in item.errors]


def test_fixture_groups_rows_into_conversations() -> None:
    with open_text(FIXTURE) as stream:
        items = list(parse_csv(stream))
    assert errors(items) == []
    assert [item.location for item in items] == ["row 2", "row 6"]
    first, second = (item.record for item in items)
    assert first is not None
    assert second is not None

    assert (first.source, first.external_id, first.channel) == ("shop", "c-1", "chat")
    assert first.agent == AgentRef("ag-1", "Ana Lima", "Tier 1 Chat", None)
    assert first.csat == 4
    assert first.tags == ("refund", "billing")
    assert (first.language, first.status) == ("en", "closed")
    assert first.handle_time_seconds == 600
    assert first.messages == (
        MessageRecord(
            "customer", "I was charged twice.", datetime(2026, 9, 1, 8, 0, 5, tzinfo=UTC)
        ),
        MessageRecord(
            "agent",
            "Sorry about that.\nI have refunded the second charge.",
            datetime(2026, 9, 1, 8, 1, tzinfo=UTC),
            "ag-1",
        ),
        MessageRecord("customer", "Thanks!", datetime(2026, 9, 1, 8, 9, tzinfo=UTC)),
    )

    assert second.source == "csv"
    assert second.agent == AgentRef("ag-2", "Ben Okoro", "Northwind Overflow", "Northwind BPO")
    # started_at defaults to the first message's sent_at, converted to UTC
    assert second.started_at == datetime(2026, 9, 2, 10, 0, tzinfo=UTC)
    assert second.ended_at is None
    assert second.csat is None


def test_source_override_and_source_column() -> None:
    with open_text(FIXTURE) as stream:
        items = list(parse_csv(stream, source="upload-3"))
    assert {item.record.source for item in items if item.record} == {"upload-3"}


def test_gzipped_csv_with_bom_and_crlf() -> None:
    text = (HEADER + "a,chat,2026-01-01T10:00:00Z,,,customer,,hello\n").replace("\n", "\r\n")
    data = gzip.compress(b"\xef\xbb\xbf" + text.encode())
    assert detect_format("upload", data) == "csv"
    with open_text(io.BytesIO(data)) as stream:
        items = list(FORMATS["csv"](stream))
    assert errors(items) == []
    assert items[0].record is not None
    assert items[0].record.messages[0].text == "hello"


def test_row_numbers_follow_file_lines_with_multiline_text_and_blank_lines() -> None:
    text = (
        HEADER
        + 'a,chat,2026-01-01T10:00:00Z,,,customer,,"line one\nline two"\n'
        + "\n"
        + "b,chat,2026-01-01T10:00:00Z,9,,customer,,hi\n"
    )
    items = parse(text)
    assert [item.location for item in items] == ["row 2", "row 5"]
    assert errors(items) == ["row 5: csat: must be an integer 1-5, got 9"]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            "a,fax,2026-01-01T10:00:00Z,,,customer,,hi",
            "row 2: channel: must be one of chat, phone, email, messaging, social, got 'fax'",
        ),
        (
            "a,chat,2026-01-01T10:00:00Z,4.5,,customer,,hi",
            "row 2: csat: must be an integer 1-5, got '4.5'",
        ),
        (
            "a,chat,2026-01-01T10:00:00Z,0,,customer,,hi",
            "row 2: csat: must be an integer 1-5, got 0",
        ),
        (
            "a,chat,2026-01-01 10:00,,,customer,,hi",
            "row 2: started_at: must include a UTC offset such as +00:00 or Z, "
            "got '2026-01-01 10:00'",
        ),
        ("a,chat,,,,customer,,hi", "row 2: started_at: is required"),
        (
            "a,chat,2026-01-01T10:00:00Z,,,client,,hi",
            "row 2: speaker: must be one of customer, agent, bot, system, got 'client'",
        ),
        ("a,chat,2026-01-01T10:00:00Z,,,customer,,", "row 2: text: must not be empty"),
        (
            "a,chat,2026-01-01T10:00:00Z,,,customer,,hi,extra",
            "row 2: row: has 9 cells but the header has 8",
        ),
        (",chat,2026-01-01T10:00:00Z,,,customer,,hi", "row 2: conversation_id: is required"),
    ],
)
def test_each_error_has_row_field_and_reason(cells: str, expected: str) -> None:
    items = parse(HEADER + cells + "\n")
    assert len(items) == 1
    assert items[0].record is None
    assert errors(items) == [expected]


def test_message_errors_are_reported_at_their_own_rows_all_together() -> None:
    text = HEADER + (
        "a,chat,2026-01-01T10:00:00Z,,,customer,2026-01-01T10:00:00Z,hi\n"
        "a,,,,,agent,10:05,\n"
        "a,,,,,robot,,ok\n"
    )
    items = parse(text)
    assert len(items) == 1
    assert items[0].errors == (
        RecordError("row 3", "text", "must not be empty"),
        RecordError("row 3", "sent_at", "must be an ISO 8601 date-time with offset, got '10:05'"),
        RecordError("row 4", "speaker", "must be one of customer, agent, bot, system, got 'robot'"),
    )


def test_contradicting_conversation_fields_are_errors_at_the_later_row() -> None:
    text = HEADER + (
        "a,chat,2026-01-01T10:00:00Z,4,x;y,customer,,hi\n"
        "a,chat,2026-01-01T10:00:00Z,4,x;y,agent,,hello\n"  # identical repeats are fine
        "a,email,,5,,customer,,bye\n"
    )
    items = parse(text)
    assert len(items) == 1
    assert items[0].record is None
    assert errors(items) == [
        "row 4: channel: 'email' contradicts 'chat' from row 2 (repeat conversation-level values"
        " identically or leave them empty)",
        "row 4: csat: '5' contradicts '4' from row 2 (repeat conversation-level values"
        " identically or leave them empty)",
    ]


def test_reappearing_conversation_id_is_an_error_at_its_row() -> None:
    text = HEADER + (
        "a,chat,2026-01-01T10:00:00Z,,,customer,,hi\n"
        "b,chat,2026-01-01T11:00:00Z,,,customer,,hi\n"
        "a,,,,,agent,,late reply\n"
    )
    items = parse(text)
    assert [item.location for item in items] == ["row 2", "row 3", "row 4"]
    assert items[0].record is not None
    assert items[1].record is not None
    assert items[2].record is None
    # The reappearing rows are judged as a unit of their own, so its missing channel and
    # started_at are reported too, after the cause.
    assert errors(items) == [
        "row 4: conversation_id: 'a' already appeared at row 2; the rows of a conversation must"
        " be consecutive",
        "row 4: channel: is required (one of chat, phone, email, messaging, social)",
        "row 4: started_at: is required",
    ]


def test_rows_without_id_do_not_split_a_conversation() -> None:
    text = HEADER + (
        "a,chat,2026-01-01T10:00:00Z,,,customer,,hi\n,chat,,,,agent,,orphan\na,,,,,agent,,hello\n"
    )
    items = parse(text)
    assert errors(items) == ["row 3: conversation_id: is required"]
    records = [item.record for item in items if item.record]
    assert [len(record.messages) for record in records] == [2]


def test_tags_split_on_semicolon_and_pipe() -> None:
    items = parse(HEADER + "a,chat,2026-01-01T10:00:00Z,, Refund | billing;;REFUND ,customer,,hi\n")
    assert items[0].record is not None
    assert items[0].record.tags == ("refund", "billing")


def test_offsets_are_converted_to_utc() -> None:
    items = parse(HEADER + "a,phone,2026-01-01T10:00:00-05:00,,,customer,,hi\n")
    record = items[0].record
    assert record is not None
    assert record.started_at == datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=-5)))
    assert record.started_at.tzinfo is UTC


def test_agent_details_need_an_agent_id() -> None:
    header = "conversation_id,channel,started_at,agent_name,speaker,text\n"
    items = parse(header + "a,chat,2026-01-01T10:00:00Z,Ana,customer,hi\n")
    assert errors(items) == [
        "row 2: agent_id: is required when agent_name, team or partner is given"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "row 1: header: the file is empty; a header row is required"),
        (
            "conversation_id,speaker\na,customer\n",
            "row 1: header: missing required column(s): channel, text",
        ),
        ("conversation_id,channel,speaker,text,Text\n", "row 1: header: duplicate column(s): text"),
    ],
)
def test_header_problems(text: str, expected: str) -> None:
    items = parse(text)
    assert errors(items) == [expected]
    assert items[0].record is None


def test_header_is_case_insensitive_and_unknown_columns_are_ignored() -> None:
    text = "Conversation_ID,Channel,Started_At,Speaker,Text,Internal Notes\n"
    text += "a,chat,2026-01-01T10:00:00Z,agent,hi,ignore me\n"
    items = parse(text)
    assert errors(items) == []


def test_detect_format_csv() -> None:
    assert detect_format("export.dat", FIXTURE.read_bytes()[:4096]) == "csv"
    assert detect_format("export.csv", b"id;who;what\n") == "csv"
