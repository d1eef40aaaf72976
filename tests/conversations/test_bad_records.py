"""Records no database can store are refused by every format, naming the unit and the field.

NUL characters (PostgreSQL refuses them in text and JSON) and times that overflow once in UTC
are errors of their unit; JSON nested too deeply is an error of its line, never a RecursionError.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from qa_app.conversations.formats import detect_format
from qa_app.conversations.formats.csv import parse_csv
from qa_app.conversations.formats.jsonl import parse_jsonl
from qa_app.conversations.records import ParsedItem
from qa_app.untrusted import JsonTooDeep, loads, nul_paths
from tests.conversations.factories import conversation
from tests.conversations.intercom_samples import conversation as intercom_conversation
from tests.conversations.intercom_samples import parse_one as parse_intercom_one
from tests.conversations.zendesk_samples import parse_one as parse_zendesk_one
from tests.conversations.zendesk_samples import ticket

NUL_REASON = "contains a NUL character"


def errors(item: ParsedItem) -> list[str]:
    assert item.record is None
    return [str(error) for error in item.errors]


def jsonl_item(data: dict[str, Any]) -> ParsedItem:
    [item] = parse_jsonl(io.StringIO(json.dumps(data) + "\n"))
    return item


def test_nul_in_canonical_fields_names_each_field() -> None:
    data = conversation(
        "c\x00-1",
        language="e\x00n",
        metadata={"queue": ["ok", "v\x00ip"], "k\x00": 1},
        messages=[
            {"speaker": "customer", "text": "hello\x00"},
            {"speaker": "agent", "text": "hi", "author": "\x00"},
        ],
    )
    assert errors(jsonl_item(data)) == [
        f"line 1: external_id: {NUL_REASON}",
        f"line 1: language: {NUL_REASON}",
        f"line 1: metadata.queue[1]: {NUL_REASON}",
        f"line 1: metadata.k\\0: {NUL_REASON}",
        f"line 1: messages[0].text: {NUL_REASON}",
        f"line 1: messages[1].author: {NUL_REASON}",
    ]


def test_nul_in_a_csv_cell_is_an_error_at_its_row() -> None:
    text = (
        "conversation_id,channel,agent_id,agent_name,started_at,speaker,text\n"
        "c-1,chat,ag-1,Sam\x00,2026-10-01T09:00:00Z,customer,hello\n"
        "c-1,chat,ag-1,,,agent,hi\x00\n"
    )
    [item] = parse_csv(io.StringIO(text))
    assert errors(item) == [f"row 2: agent.name: {NUL_REASON}", f"row 3: text: {NUL_REASON}"]


def test_nul_in_zendesk_texts_the_parser_maps_itself_is_refused() -> None:
    data = ticket(
        custom_fields=[{"id": 360, "value": "gold\x00"}],
        comments=[
            {"id": 1, "author_id": 10, "public": True, "plain_body": "Help\x00"},
            {"id": 2, "author_id": 20, "public": False, "plain_body": "note\x00"},  # skipped
        ],
    )
    assert errors(parse_zendesk_one(data)) == [
        f"ticket 1 (id 1): metadata.custom_fields.360: {NUL_REASON}",
        f"ticket 1 (id 1): messages[0].text: {NUL_REASON}",
    ]


def test_nul_in_an_intercom_title_is_refused_and_html_bodies_lose_it() -> None:
    item = parse_intercom_one(intercom_conversation(title="VIP\x00"))
    assert errors(item) == [f"conversation 1 (id 77): metadata.title: {NUL_REASON}"]
    data = intercom_conversation()
    data["conversation_parts"]["conversation_parts"][0]["body"] = "<p>Hi\x00 Sam</p>"
    record = parse_intercom_one(data).record
    assert record is not None  # HTML goes through nh3, which drops the NUL
    assert "\x00" not in record.messages[1].text


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"started_at": "9999-12-31T23:00:00-12:00"}, "started_at"),
        ({"started_at": "0001-01-01T00:00:00+14:00"}, "started_at"),
        ({"ended_at": "9999-12-31T23:30:00-12:00"}, "ended_at"),
        (
            {"messages": [{"speaker": "agent", "text": "hi", "sent_at": "9999-12-31T23:00-12:00"}]},
            "messages[0].sent_at",
        ),
    ],
)
def test_times_that_overflow_in_utc_are_an_error_of_their_field(
    fields: dict[str, Any], field: str
) -> None:
    [error] = errors(jsonl_item(conversation("c-1", **fields)))
    assert error.startswith(f"line 1: {field}: is out of range once converted to UTC")


def test_an_overflowing_zendesk_time_is_an_error() -> None:
    item = parse_zendesk_one(ticket(created_at="0001-01-01T00:00:00+14:00"))
    assert [error.field for error in item.errors] == ["created_at"]


def test_format_detection_of_a_deep_first_line_does_not_recurse() -> None:
    deep = ("[" * 50_000 + "]" * 50_000).encode()
    with pytest.raises(ValueError, match="nested too deeply"):
        detect_format("upload.json", deep)
    assert detect_format("upload.jsonl", deep) == "jsonl"


def test_the_json_helper() -> None:
    for text in ("[NaN]", '{"a": Infinity}', "1" * 5000):
        with pytest.raises(json.JSONDecodeError):
            loads(text)
    with pytest.raises(JsonTooDeep):
        loads("[" * 101 + "]" * 101)
    assert loads("[" * 100 + "]" * 100) is not None
    assert loads(b'{"a": "\\u0000"}') == {"a": "\x00"}
    assert nul_paths({"a": ["x", {"b\x00": "\x00"}]}, "body") == ["body.a[1].b\\0"]
