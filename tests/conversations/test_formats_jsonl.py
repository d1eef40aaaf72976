"""Canonical JSON Lines parsing, shared validation rules, and streaming file opening."""

from __future__ import annotations

import copy
import gzip
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from qa_app.conversations.formats import FORMATS, detect_format, open_text
from qa_app.conversations.formats.jsonl import parse_jsonl
from qa_app.conversations.records import (
    AgentRef,
    ConversationRecord,
    MessageRecord,
    ParsedItem,
    RecordError,
)

DEMO = Path("/work/shared/data/conversations-demo.jsonl.gz")
SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "conversation.schema.json"

VALID: dict[str, Any] = {
    "external_id": "conv-1",
    "source": "shop",
    "channel": "chat",
    "agent": {"external_id": "ag-1", "name": "Ana Lima", "team": "Tier 1 Chat", "partner": None},
    "started_at": "2026-09-04T18:46:31+02:00",
    "ended_at": "2026-09-04T16:56:09Z",
    "csat": 4,
    "tags": [" Flights ", "transaction-failed", "flights", "FLIGHTS"],
    "language": "en",
    "status": "closed",
    "metadata": {"queue": "flights"},
    "messages": [
        {
            "speaker": "customer",
            "text": " can you book a flight? ",
            "sent_at": "2026-09-04T16:47:02+00:00",
        },
        {"speaker": "Agent", "text": "Sure.", "author": "ag-1"},
    ],
}


def line(data: dict[str, Any]) -> str:
    return json.dumps(data) + "\n"


def parse_one(data: dict[str, Any], **kwargs: Any) -> ParsedItem:
    items = list(parse_jsonl(io.StringIO(line(data)), **kwargs))
    assert len(items) == 1
    return items[0]


def errors_of(data: dict[str, Any]) -> set[tuple[str, str]]:
    item = parse_one(data)
    assert item.record is None
    return {(error.field, error.reason) for error in item.errors}


def with_changes(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is ...:
            data.pop(key)
        else:
            data[key] = value
    return data


def test_valid_line_becomes_a_normalised_record() -> None:
    item = parse_one(VALID)
    assert item.errors == ()
    assert item.location == "line 1"
    assert item.record == ConversationRecord(
        source="shop",
        external_id="conv-1",
        channel="chat",
        agent=AgentRef("ag-1", "Ana Lima", "Tier 1 Chat", None),
        started_at=datetime(2026, 9, 4, 16, 46, 31, tzinfo=UTC),
        ended_at=datetime(2026, 9, 4, 16, 56, 9, tzinfo=UTC),
        csat=4,
        tags=("flights", "transaction-failed"),
        language="en",
        status="closed",
        metadata={"queue": "flights"},
        messages=(
            MessageRecord(
                "customer", "can you book a flight?", datetime(2026, 9, 4, 16, 47, 2, tzinfo=UTC)
            ),
            MessageRecord("agent", "Sure.", None, "ag-1"),
        ),
    )
    record = item.record
    assert record is not None
    assert record.started_at.utcoffset() is not None
    assert record.handle_time_seconds == 578


def test_minimal_line_and_agent_as_plain_id() -> None:
    data = {
        "external_id": "x",
        "source": "s",
        "channel": "email",
        "agent": "ag-9",
        "started_at": "2026-01-01T00:00:00Z",
        "messages": [{"speaker": "bot", "text": "hi"}],
    }
    record = parse_one(data).record
    assert record is not None
    assert record.agent == AgentRef("ag-9")
    assert (record.ended_at, record.csat, record.tags, record.metadata) == (None, None, (), {})
    assert record.handle_time_seconds is None


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        ({"external_id": ...}, "external_id", "is required"),
        ({"external_id": ""}, "external_id", "must not be empty"),
        ({"external_id": "   "}, "external_id", "must not be empty"),
        ({"external_id": 123}, "external_id", "must be a string, got number"),
        ({"external_id": "x" * 201}, "external_id", "must be at most 200 characters, got 201"),
        ({"source": ...}, "source", "is required"),
        (
            {"channel": "fax"},
            "channel",
            "must be one of chat, phone, email, messaging, social, got 'fax'",
        ),
        ({"channel": ...}, "channel", "is required (one of chat, phone, email, messaging, social)"),
        ({"csat": 7}, "csat", "must be an integer 1-5, got 7"),
        ({"csat": 0}, "csat", "must be an integer 1-5, got 0"),
        ({"csat": True}, "csat", "must be an integer 1-5, got True"),
        ({"csat": 4.0}, "csat", "must be an integer 1-5, got 4.0"),
        ({"csat": "4"}, "csat", "must be an integer 1-5, got '4'"),
        ({"started_at": ...}, "started_at", "is required"),
        (
            {"started_at": "2026-09-04T16:46:31"},
            "started_at",
            "must include a UTC offset such as +00:00 or Z, got '2026-09-04T16:46:31'",
        ),
        (
            {"started_at": "2026-09-04"},
            "started_at",
            "must be an ISO 8601 date-time with offset, got '2026-09-04'",
        ),
        (
            {"started_at": "yesterday"},
            "started_at",
            "must be an ISO 8601 date-time with offset, got 'yesterday'",
        ),
        (
            {"started_at": 1788336000},
            "started_at",
            "must be an ISO 8601 date-time string, got number",
        ),
        (
            {"ended_at": "2026-09-04T16:00:00+00:00"},
            "ended_at",
            "must not be before started_at (2026-09-04T16:00:00+00:00 < 2026-09-04T16:46:31+00:00)",
        ),
        ({"tags": "flights"}, "tags", "must be an array of strings, got string"),
        ({"tags": ["ok", 5]}, "tags[1]", "must be a string, got number"),
        ({"language": 5}, "language", "must be a string, got number"),
        ({"language": "x" * 36}, "language", "must be at most 35 characters, got 36"),
        ({"metadata": ["a"]}, "metadata", "must be a JSON object, got array"),
        ({"agent": {"name": "No Id"}}, "agent.external_id", "is required"),
        ({"agent": 7}, "agent", "must be an object or a string, got number"),
        ({"messages": []}, "messages", "must contain at least one message"),
        ({"messages": ...}, "messages", "is required"),
        ({"messages": {"speaker": "agent"}}, "messages", "must be an array, got object"),
        ({"messages": ["hello"]}, "messages[0]", "must be an object, got string"),
        (
            {"messages": [{"speaker": "robot", "text": "hi"}]},
            "messages[0].speaker",
            "must be one of customer, agent, bot, system, got 'robot'",
        ),
        (
            {"messages": [{"speaker": "agent", "text": "  "}]},
            "messages[0].text",
            "must not be empty",
        ),
        ({"messages": [{"speaker": "agent"}]}, "messages[0].text", "is required"),
        (
            {"messages": [{"speaker": "agent", "text": 5}]},
            "messages[0].text",
            "must be a string, got number",
        ),
        (
            {"messages": [{"speaker": "agent", "text": "hi", "sent_at": "2026-09-04 16:47"}]},
            "messages[0].sent_at",
            "must include a UTC offset such as +00:00 or Z, got '2026-09-04 16:47'",
        ),
    ],
)
def test_each_rule_reports_field_and_reason(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    assert errors_of(with_changes(**changes)) == {(field, reason)}


def test_all_errors_of_a_line_are_reported_together() -> None:
    data = with_changes(
        channel="fax",
        csat=9,
        started_at="2026-09-04T16:46:31",
        messages=[{"speaker": "agent", "text": "ok"}, {"speaker": "alien", "text": ""}],
    )
    item = parse_one(data)
    assert item.record is None
    assert [str(error) for error in item.errors] == [
        "line 1: channel: must be one of chat, phone, email, messaging, social, got 'fax'",
        "line 1: started_at: must include a UTC offset such as +00:00 or Z,"
        " got '2026-09-04T16:46:31'",
        "line 1: csat: must be an integer 1-5, got 9",
        "line 1: messages[1].speaker: must be one of customer, agent, bot, system, got 'alien'",
        "line 1: messages[1].text: must not be empty",
    ]


def test_line_numbers_count_blank_lines_and_bad_json_is_reported() -> None:
    text = line(VALID) + "\n   \n" + '{"external_id": "x", \n' + "[1, 2]\n" + line(VALID)
    items = list(parse_jsonl(io.StringIO(text)))
    assert [item.location for item in items] == ["line 1", "line 4", "line 5", "line 6"]
    assert items[0].record is not None
    assert items[3].record is not None
    assert items[1].errors == (
        RecordError(
            "line 4",
            "json",
            "invalid JSON: Expecting property name enclosed in double quotes (column 22)",
        ),
    )
    assert items[2].errors == (RecordError("line 5", "json", "must be a JSON object, got array"),)


def test_source_override_wins_and_missing_source_is_allowed_with_it() -> None:
    assert parse_one(VALID, source="import-7").record.source == "import-7"  # type: ignore[union-attr]
    record = parse_one(with_changes(source=...), source="helpdesk").record
    assert record is not None
    assert record.source == "helpdesk"


def test_record_error_str() -> None:
    assert str(RecordError("line 12", "csat", "must be an integer 1-5, got 7")) == (
        "line 12: csat: must be an integer 1-5, got 7"
    )


def test_parser_streams_lazily() -> None:
    """The first record must come out before the rest of the stream is read."""

    def lines() -> Iterator[str]:
        yield line(VALID)
        raise AssertionError("read too far")

    items = parse_jsonl(lines())  # type: ignore[arg-type]
    assert next(items).record is not None
    with pytest.raises(AssertionError, match="read too far"):
        next(items)


# --- open_text and detect_format ---------------------------------------------------------------


def test_open_text_detects_gzip_by_magic_bytes_not_name(tmp_path: Path) -> None:
    payload = line(VALID).encode()
    disguised = tmp_path / "export.txt"
    disguised.write_bytes(gzip.compress(payload))
    misnamed = tmp_path / "plain.jsonl.gz"
    misnamed.write_bytes(payload)
    for path in (disguised, misnamed):
        with open_text(path) as stream:
            assert [item.record is not None for item in parse_jsonl(stream)] == [True]


def test_open_text_handles_bom_and_non_seekable_streams() -> None:
    class OneWay(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buffer: Any) -> int:
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    for data in (b"\xef\xbb\xbf" + line(VALID).encode(), gzip.compress(line(VALID).encode())):
        with open_text(OneWay(data)) as stream:  # type: ignore[arg-type]
            items = list(parse_jsonl(stream))
        assert items[0].record is not None
        assert items[0].record.external_id == "conv-1"


def test_open_text_on_binary_stream_decodes_utf8() -> None:
    data = with_changes(messages=[{"speaker": "customer", "text": "Grüße aus Köln ☕"}])
    with open_text(io.BytesIO(gzip.compress(line(data).encode()))) as stream:
        record = next(parse_jsonl(stream)).record
    assert record is not None
    assert record.messages[0].text == "Grüße aus Köln ☕"


def test_detect_format_jsonl() -> None:
    head = line(VALID).encode()
    assert detect_format("upload.bin", head) == "jsonl"
    assert detect_format("upload.bin", gzip.compress(head)) == "jsonl"
    assert detect_format("x.jsonl.gz", b"") == "jsonl"
    assert FORMATS["jsonl"] is parse_jsonl
    with pytest.raises(ValueError, match="cannot tell the format"):
        detect_format("notes.txt", b"hello")


# --- the real demo data -------------------------------------------------------------------------


@pytest.mark.skipif(not DEMO.exists(), reason="demo data not available")
def test_demo_file_parses_completely() -> None:
    with open_text(DEMO) as stream:
        items = list(parse_jsonl(stream))
    assert [error for item in items for error in item.errors] == []
    records = [item.record for item in items if item.record is not None]
    assert len(records) == 1500
    assert len({(r.source, r.external_id) for r in records}) == 1500
    assert {r.channel for r in records} == {"chat", "messaging", "email"}
    assert all(r.started_at.tzinfo is UTC for r in records)
    assert sum(r.csat is not None for r in records) > 300
    with DEMO.open("rb") as raw:
        assert detect_format(DEMO.name, raw.read(65536)) == "jsonl"


@pytest.mark.skipif(not DEMO.exists(), reason="demo data not available")
def test_demo_lines_validate_against_the_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    with open_text(DEMO) as stream:
        for number, text in enumerate(stream, start=1):
            if number > 50:
                break
            assert list(validator.iter_errors(json.loads(text))) == [], f"line {number}"
    assert not validator.is_valid(with_changes(csat=7))
    assert not validator.is_valid(with_changes(messages=[]))


PACKAGED_DEMO = (
    Path(__file__).resolve().parents[2] / "qa_app" / "demo" / "conversations-demo.jsonl.gz"
)


def test_every_line_of_the_packaged_demo_file_validates_against_the_json_schema() -> None:
    """The copy shipped in the package (always present) must match the documented schema."""
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    number = 0
    with open_text(PACKAGED_DEMO) as stream:
        for number, text in enumerate(stream, start=1):
            problems = [error.message for error in validator.iter_errors(json.loads(text))]
            assert problems == [], f"line {number}"
    assert number == 1500
