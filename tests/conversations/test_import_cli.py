"""`flask import-conversations`: exit status, reasons, options, and the demo seed."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.conversations.models import Conversation, Message
from qa_app.org.models import Agent
from tests.conversations.factories import conversation, demo_lines


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def conversations(db: Session) -> int:
    return db.scalar(select(func.count(Conversation.id))) or 0


def test_imports_a_gzip_file_and_is_idempotent(runner: Any, db: Session, tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl.gz"
    rows = demo_lines(30)
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode()))
    result = runner.invoke(args=["import-conversations", str(path)])
    assert result.exit_code == 0, result.output
    assert "30 conversations read, 30 created" in result.output
    assert conversations(db) == 30
    again = runner.invoke(args=["import-conversations", str(path)])
    assert again.exit_code == 0, again.output
    assert "0 created, 0 updated, 30 unchanged" in again.output
    assert conversations(db) == 30


def test_bad_file_exits_non_zero_with_every_reason(
    runner: Any, db: Session, tmp_path: Path
) -> None:
    rows = [conversation("a"), conversation("b", csat=0), conversation("c", channel="pigeon")]
    result = runner.invoke(
        args=["import-conversations", str(write_jsonl(tmp_path / "x.jsonl", rows))]
    )
    assert result.exit_code == 1
    assert "line 2: csat: must be an integer 1-5, got 0" in result.output
    assert "line 3: channel: must be one of" in result.output
    assert "2 problems found; nothing was imported" in result.output
    assert conversations(db) == 0


def test_partial_imports_good_rows_and_still_exits_non_zero(
    runner: Any, db: Session, tmp_path: Path
) -> None:
    rows = [conversation("a"), conversation("b", csat=0)]
    path = write_jsonl(tmp_path / "x.jsonl", rows)
    result = runner.invoke(args=["import-conversations", str(path), "--partial"])
    assert result.exit_code == 1
    assert "1 conversations were not imported" in result.output
    assert conversations(db) == 1


def test_dry_run_and_reject_unknown_agents(runner: Any, db: Session, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "x.jsonl", [conversation("a", agent="ag-new")])
    dry = runner.invoke(args=["import-conversations", str(path), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 would be created" in dry.output
    assert "New agents: ag-new" in dry.output
    assert "Dry run: nothing was written." in dry.output
    assert conversations(db) == 0
    assert db.scalar(select(func.count(Agent.id))) == 0
    rejected = runner.invoke(args=["import-conversations", str(path), "--unknown-agents", "reject"])
    assert rejected.exit_code == 1
    assert "line 1: agent.id: unknown agent 'ag-new'" in rejected.output


def test_format_and_source_options(runner: Any, db: Session, tmp_path: Path) -> None:
    path = tmp_path / "messages.txt"
    path.write_text(
        "conversation_id,channel,started_at,agent_id,speaker,text\n"
        "T-1,email,2026-10-01T10:00:00Z,ag-1,customer,Where is my parcel?\n"
        "T-1,email,2026-10-01T10:00:00Z,ag-1,agent,It ships today.\n",
        encoding="utf-8",
    )
    result = runner.invoke(
        args=["import-conversations", str(path), "--format", "csv", "--source", "freshdesk"]
    )
    assert result.exit_code == 0, result.output
    stored = db.scalars(select(Conversation)).one()
    assert (stored.source, stored.external_id, stored.channel) == ("freshdesk", "T-1", "email")
    assert db.scalar(select(func.count(Message.id))) == 2


def test_unreadable_file_is_refused(runner: Any, db: Session, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n", encoding="utf-8")
    result = runner.invoke(args=["import-conversations", str(path)])
    assert result.exit_code == 1
    assert "cannot tell the format of 'notes.txt'" in result.output
    assert "nothing was imported" in result.output


def test_seed_demo_imports_the_demo_conversations_once(runner: Any, db: Session) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo conversations: 1500 conversations read, 1500 created" in result.output
    assert conversations(db) == 1500
    again = runner.invoke(args=["seed-demo"])
    assert "1500 unchanged" in again.output
    assert conversations(db) == 1500
