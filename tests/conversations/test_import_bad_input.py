"""Imports of data no database can store, through the CLI, the web upload and the API: each
refusal names the line and field (or the limit passed), and nothing is written.

NUL characters, times beyond the calendar once in UTC, JSON nested too deeply, files that inflate
past the import limits, and empty files. The parsers' side: test_bad_records.py.
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from qa_app.conversations.formats import detect_format
from qa_app.org.roles import Role
from tests.conftest import Factory, bearer, login
from tests.conversations.factories import conversation as canonical
from tests.security.bad_input_support import DEEP, NUL, row_counts

# Imports: NUL, times, nesting, sizes, empty files -----------------------------------------------

NUL_FIELDS = [
    ("external_id", {"external_id": "a\x00"}),
    ("source", {"source": "desk\x00"}),
    ("status", {"status": "closed\x00"}),
    ("tags[1]", {"tags": ["ok", "bill\x00ing"]}),
    ("agent.name", {"agent": {"external_id": "ag-1", "name": "Sam\x00"}}),
    ("agent", {"agent": "ag\x00-1"}),
    ("metadata.queue", {"metadata": {"queue": "vip\x00"}}),
    ("metadata.deep[0].x", {"metadata": {"deep": [{"x": "\x00"}]}}),
    ("messages[0].text", {"messages": [{"speaker": "customer", "text": "hi\x00"}]}),
    ("messages[0].author", {"messages": [{"speaker": "agent", "text": "hi", "author": "\x00"}]}),
]


def write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_the_cli_refuses_nul_characters_naming_line_and_field(
    runner: Any, db: Session, tmp_path: Path
) -> None:
    rows = [{**canonical(f"c-{n}"), **fields} for n, (_, fields) in enumerate(NUL_FIELDS)]
    path = write(tmp_path / "nul.jsonl", [canonical("good"), *rows])
    before = row_counts(db)
    result = runner.invoke(args=["import-conversations", str(path)])
    assert result.exit_code == 1
    for line, (field, _) in enumerate(NUL_FIELDS, start=2):
        assert f"line {line}: {field}: contains a NUL character" in result.output
    assert row_counts(db) == before


def test_the_api_import_refuses_nul_characters(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    headers = bearer(db, make.user(Role.ADMIN))
    before = row_counts(db)
    body = "".join(json.dumps(canonical("a", status=f"x{NUL}")) + "\n" for _ in range(1))
    response = client.post(
        "/api/v1/conversations",
        headers={**headers, "Content-Type": "application/x-ndjson"},
        data=body.encode(),
    )
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"location": "line 1", "field": "status", "reason": "contains a NUL character"}
    ]
    assert row_counts(db) == before


@pytest.fixture
def web(app: Flask, client: FlaskClient, make: Factory, tmp_path: Path) -> FlaskClient:
    app.config["QA_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    login(client, make.user(Role.MANAGER))
    return client


def upload(client: FlaskClient, content: bytes, filename: str) -> Any:
    data = {"format": "", "source": "", "unknown_agents": "create"}
    return client.post(
        "/conversations/import/preview",
        data={**data, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def test_a_csv_upload_with_nul_is_refused_at_its_row(web: FlaskClient, db: Session) -> None:
    csv = (
        "conversation_id,channel,started_at,speaker,text\n"
        "c-1,chat,2026-10-01T09:00:00Z,customer,hello\n"
        "c-1,chat,,agent,hi\x00there\n"
    )
    before = row_counts(db)
    response = upload(web, csv.encode(), "chats.csv")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "row 3" in page
    assert "contains a NUL character" in page
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("started_at", "9999-12-31T23:00:00-12:00"),
        ("started_at", "0001-01-01T00:00:00+14:00"),
        ("ended_at", "9999-12-31T23:00:00-12:00"),
        ("messages", [{"speaker": "customer", "text": "hi", "sent_at": "0001-01-01T00:00+14:00"}]),
    ],
)
def test_times_beyond_the_calendar_are_a_line_error(
    runner: Any, db: Session, tmp_path: Path, field: str, value: Any
) -> None:
    path = write(tmp_path / "times.jsonl", [canonical("good"), canonical("bad", **{field: value})])
    before = row_counts(db)
    result = runner.invoke(args=["import-conversations", str(path)])
    assert result.exit_code == 1
    expected = "messages[0].sent_at" if field == "messages" else field
    assert f"line 2: {expected}: is out of range once converted to UTC" in result.output
    assert row_counts(db) == before


@pytest.mark.parametrize("name", ["deep.json", "deep.jsonl", "deep.json.gz"])
def test_the_cli_says_nested_too_deeply(
    runner: Any, db: Session, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    data = DEEP.encode() + b"\n"
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    before = row_counts(db)
    result = runner.invoke(args=["import-conversations", str(path)])
    assert result.exit_code == 1
    assert "nested too deeply" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert row_counts(db) == before


def test_the_web_upload_says_nested_too_deeply(web: FlaskClient, db: Session) -> None:
    before = row_counts(db)
    response = upload(web, DEEP.encode(), "export.json")
    assert response.status_code == 200
    assert "nested too deeply" in response.get_data(as_text=True)
    assert row_counts(db) == before


def test_metadata_nested_past_the_limit_is_a_line_error(
    runner: Any, db: Session, tmp_path: Path
) -> None:
    nested: Any = "leaf"
    for _ in range(150):
        nested = {"n": nested}
    path = write(tmp_path / "deep.jsonl", [canonical("a", metadata=nested)])
    before = row_counts(db)
    result = runner.invoke(args=["import-conversations", str(path)])
    assert result.exit_code == 1
    assert "line 1: json: invalid JSON: nested too deeply" in result.output
    assert row_counts(db) == before


def test_format_detection_inflates_only_the_head() -> None:
    head = gzip.compress(b" " * (8 * 1024 * 1024) + b'{"messages": []}\n')[: 64 * 1024]
    with pytest.raises(ValueError, match="cannot tell the format"):
        detect_format("upload", head)


def test_a_web_upload_inflating_past_the_limits_is_refused(
    app: Flask, web: FlaskClient, db: Session
) -> None:
    app.config["QA_API_MAX_LINE_BYTES"] = 10_000
    before = row_counts(db)
    one_line = gzip.compress(b'{"external_id": "' + b"x" * 200_000 + b'"}\n')
    response = upload(web, one_line, "bomb.jsonl.gz")
    assert "a line of the file is longer than 10,000 bytes" in response.get_data(as_text=True)
    app.config["QA_API_MAX_INFLATED_BYTES"] = 50_000
    lines = gzip.compress(b"\n" * 100_000)  # blank lines, short but many
    response = upload(web, lines, "bomb.jsonl.gz")
    assert "the file is larger than 50,000 bytes once decompressed" in response.get_data(
        as_text=True
    )
    assert row_counts(db) == before


def test_the_cli_applies_the_same_limits(
    app: Flask, runner: Any, db: Session, tmp_path: Path
) -> None:
    app.config["QA_API_MAX_LINE_BYTES"] = 10_000
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(b"[" + b" " * 200_000 + b"]\n"))
    before = row_counts(db)
    result = runner.invoke(args=["import-conversations", str(path), "--format", "jsonl"])
    assert result.exit_code == 1
    assert "a line of the file is longer than 10,000 bytes" in result.output
    app.config["QA_API_MAX_JSON_BYTES"] = 10_000
    document = tmp_path / "tickets.json"
    document.write_text('{"tickets": [\n' + ",\n".join(["{}"] * 10_000) + "\n]}")
    result = runner.invoke(args=["import-conversations", str(document), "--format", "zendesk"])
    assert result.exit_code == 1
    assert "the JSON document is longer than 10,000 characters" in result.output
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("empty.jsonl", b""),
        ("blank.jsonl", b" \n\n\t \r\n"),
        ("empty.jsonl.gz", gzip.compress(b"", mtime=0)),
        ("blank.csv.gz", gzip.compress(b"\n\n", mtime=0)),
    ],
    ids=["empty", "blank", "empty-gzip", "blank-gzip"],
)
def test_the_cli_refuses_an_empty_file(
    runner: Any, db: Session, tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    before = row_counts(db)
    result = runner.invoke(args=["import-conversations", str(path), "--format", "jsonl"])
    assert result.exit_code != 0
    assert f"{name}: the file is empty; nothing was imported." in result.output
    assert row_counts(db) == before
