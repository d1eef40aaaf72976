"""The import service: all-or-nothing, partial, idempotent upserts, agents, redaction."""

from __future__ import annotations

import gzip
import io
import json
from copy import deepcopy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from qa_app.conversations.importer import (
    UNASSIGNED_TEAM,
    ImportFailed,
    ImportOptions,
    ImportReport,
    import_file,
)
from qa_app.conversations.models import (
    Conversation,
    ConversationImport,
    ConversationTag,
    Message,
)
from qa_app.org.models import Agent, Partner
from tests.conftest import Factory
from tests.conversations.factories import conversation, demo_lines
from tests.statements import recorded_statements

FIXTURES = Path(__file__).with_name("fixtures")


def jsonl(rows: list[dict[str, Any]]) -> io.BytesIO:
    return io.BytesIO("".join(json.dumps(row) + "\n" for row in rows).encode())


def run(db: Session, rows: list[dict[str, Any]], **options: Any) -> ImportReport:
    return import_file(
        db, jsonl(rows), ImportOptions(format="jsonl", **options), via="cli", filename="t.jsonl"
    )


def count(db: Session, model: Any) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_imports_real_conversations_with_messages_tags_and_derived_team(
    db: Session, make: Factory
) -> None:
    rows = demo_lines(40)
    report = run(db, rows)
    assert report.ok
    assert report.committed
    assert (report.total, report.created, report.updated, report.unchanged) == (40, 40, 0, 0)
    assert count(db, Conversation) == 40
    assert count(db, Message) == sum(len(row["messages"]) for row in rows)
    assert count(db, ConversationTag) == sum(len(set(row["tags"])) for row in rows)

    first = rows[0]
    stored = db.scalars(
        select(Conversation).where(Conversation.external_id == first["external_id"])
    ).one()
    agent = db.scalars(
        select(Agent).where(Agent.external_id == first["agent"]["external_id"])
    ).one()
    assert stored.agent_id == agent.id
    assert stored.team_id == agent.team_id
    assert agent.team.name == first["agent"]["team"]
    assert stored.message_count == len(first["messages"])
    assert stored.handle_time_seconds == 578  # 16:46:31 -> 16:56:09
    texts = db.scalars(
        select(Message.text).where(Message.conversation_id == stored.id).order_by(Message.position)
    ).all()
    assert texts[0] == first["messages"][0]["text"]
    history = db.scalars(select(ConversationImport)).one()
    assert (history.via, history.format, history.created) == ("cli", "jsonl", 40)


def test_reimporting_the_same_file_changes_nothing(db: Session) -> None:
    rows = demo_lines(25)
    run(db, rows)
    before = db.execute(select(Conversation.id, Conversation.updated_at)).all()
    report = run(db, rows)
    assert (report.created, report.updated, report.unchanged) == (0, 0, 25)
    assert count(db, Conversation) == 25
    assert db.execute(select(Conversation.id, Conversation.updated_at)).all() == before


def test_changed_conversation_is_updated_with_messages_and_tags_replaced(db: Session) -> None:
    rows = [conversation("a"), conversation("b")]
    run(db, rows)
    old_id = db.scalar(select(Conversation.id).where(Conversation.external_id == "a"))
    changed = deepcopy(rows)
    changed[0]["messages"] = [{"speaker": "customer", "text": "Only one message now."}]
    changed[0]["tags"] = ["refund", "escalated"]
    changed[0]["csat"] = 1
    report = run(db, changed)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    updated = db.scalars(select(Conversation).where(Conversation.external_id == "a")).one()
    assert updated.id == old_id  # same row: reviews pointing at it stay attached
    assert (updated.csat, updated.message_count, updated.tags) == (1, 1, ["escalated", "refund"])
    texts = db.scalars(select(Message.text).where(Message.conversation_id == old_id)).all()
    assert texts == ["Only one message now."]


def test_a_bad_line_rejects_the_whole_file_with_precise_reasons(db: Session) -> None:
    rows = [conversation(str(number)) for number in range(12)]
    rows[9]["channel"] = "fax"
    del rows[10]["started_at"]
    report = run(db, rows, batch_size=4)  # errors arrive after two batches were written
    assert not report.ok
    assert not report.committed
    assert [str(error) for error in report.errors] == [
        "line 10: channel: must be one of chat, phone, email, messaging, social, got 'fax'",
        "line 11: started_at: is required",
    ]
    assert report.rejected == 2
    assert count(db, Conversation) == 0
    assert count(db, Message) == 0
    assert count(db, Agent) == 0
    assert count(db, ConversationImport) == 0


def test_malformed_json_line_is_reported_with_its_line_number(db: Session) -> None:
    data = json.dumps(conversation("a")) + "\n{not json\n" + json.dumps(conversation("b")) + "\n"
    report = import_file(db, io.BytesIO(data.encode()), ImportOptions(), via="cli", filename="x")
    assert report.error_count == 1
    assert report.errors[0].location == "line 2"
    assert count(db, Conversation) == 0


def test_partial_imports_the_good_conversations_and_reports_the_rest(db: Session) -> None:
    rows = [conversation(str(number)) for number in range(6)]
    rows[2]["csat"] = 9
    report = run(db, rows, partial=True, batch_size=2)
    assert report.committed
    assert (report.created, report.rejected, report.error_count) == (5, 1, 1)
    assert str(report.errors[0]) == "line 3: csat: must be an integer 1-5, got 9"
    assert count(db, Conversation) == 5


def test_duplicate_conversation_in_one_file_is_an_error(db: Session) -> None:
    report = run(db, [conversation("a"), conversation("b"), conversation("a")])
    assert [error.location for error in report.errors] == ["line 3"]
    assert "appears more than once" in report.errors[0].reason
    assert count(db, Conversation) == 0


def test_dry_run_counts_everything_and_writes_nothing(db: Session, make: Factory) -> None:
    run(db, [conversation("a")])
    report = run(db, [conversation("a"), conversation("b", agent="ag-new")], dry_run=True)
    assert (report.created, report.unchanged, report.committed) == (1, 1, False)
    assert report.new_agents == ["ag-new"]
    assert count(db, Conversation) == 1
    assert count(db, Agent) == 1


def test_unknown_agents_are_created_in_the_named_team_and_partner(db: Session) -> None:
    row = conversation("a", agent="ag-77")
    row["agent"] = {
        "external_id": "ag-77",
        "name": "Ines",
        "team": "Lumen Night",
        "partner": "Lumen",
    }
    bare = conversation("b", agent="ag-78")
    bare["agent"] = {"external_id": "ag-78"}
    report = run(db, [row, bare])
    assert report.new_partners == ["Lumen"]
    assert report.new_teams == ["Lumen Night", UNASSIGNED_TEAM]
    assert report.new_agents == ["ag-77", "ag-78"]
    ines = db.scalars(select(Agent).where(Agent.external_id == "ag-77")).one()
    assert (ines.name, ines.team.name, ines.team.partner.name) == ("Ines", "Lumen Night", "Lumen")
    unnamed = db.scalars(select(Agent).where(Agent.external_id == "ag-78")).one()
    assert (unnamed.name, unnamed.team.name, unnamed.team.partner_id) == (
        "ag-78",
        "Unassigned",
        None,
    )


def test_known_agents_keep_their_team_whatever_the_file_says(db: Session, make: Factory) -> None:
    house = make.team("House")
    make.agent(house, name="Kim", external_id="ag-5")
    row = conversation("a", agent="ag-5")
    row["agent"]["team"] = "Somewhere else"
    report = run(db, [row])
    assert report.new_teams == []
    assert report.new_agents == []
    assert db.scalar(select(Conversation.team_id)) == house.id


def test_unknown_agents_rejected_when_asked(db: Session, make: Factory) -> None:
    make.agent(make.team("House"), external_id="ag-1")
    report = run(
        db, [conversation("a"), conversation("b", agent="ag-404")], unknown_agents="reject"
    )
    assert [str(error) for error in report.errors] == ["line 2: agent.id: unknown agent 'ag-404'"]
    assert count(db, Conversation) == 0
    partial = run(
        db,
        [conversation("a"), conversation("b", agent="ag-404")],
        unknown_agents="reject",
        partial=True,
    )
    assert (partial.created, partial.rejected) == (1, 1)
    assert count(db, Agent) == 1


def test_agent_in_a_team_of_another_partner_is_reported(db: Session, make: Factory) -> None:
    make.team("Shared name", make.partner("Northwind"))
    row = conversation("a", agent="ag-9")
    row["agent"] = {"external_id": "ag-9", "name": "X", "team": "Shared name", "partner": "Lumen"}
    report = run(db, [row])
    assert report.error_count == 1
    assert report.errors[0].field == "agent.id"
    assert "belongs to another partner" in report.errors[0].reason
    assert count(db, Partner) == 1


def test_personal_data_is_redacted_before_it_is_stored(db: Session) -> None:
    row = conversation("a")
    row["messages"] = [
        {
            "speaker": "customer",
            "text": "Mail me at jane.doe@example.com or call +44 20 7946 0958.",
        },
        {"speaker": "customer", "text": "Card 4111 1111 1111 1111, order 4829103 from 2024-03-15."},
    ]
    report = run(db, [row])
    assert report.redactions == {"email": 1, "phone": 1, "card": 1}
    texts = db.scalars(select(Message.text).order_by(Message.position)).all()
    assert texts == [
        "Mail me at [EMAIL] or call [PHONE].",
        "Card [CARD], order 4829103 from 2024-03-15.",
    ]
    assert db.scalar(select(Conversation.redactions)) == {"email": 1, "phone": 1, "card": 1}
    assert count(db, Message) == 2


def test_redaction_can_be_turned_off(db: Session) -> None:
    row = conversation("a")
    row["messages"] = [{"speaker": "customer", "text": "jane.doe@example.com"}]
    report = run(db, [row], redact=False)
    assert report.redactions == {}
    assert db.scalar(select(Message.text)) == "jane.doe@example.com"


def test_full_text_search_finds_imported_messages(db: Session) -> None:
    from qa_app.conversations.search import matching_conversations

    run(db, [conversation("a"), conversation("b", messages=[{"speaker": "agent", "text": "Hi"}])])
    dialect = db.get_bind().dialect.name
    found = db.scalars(
        select(Conversation.external_id).where(matching_conversations(dialect, "invoice"))
    ).all()
    assert found == ["a"]


def test_csv_and_vendor_formats_go_through_the_same_service(db: Session) -> None:
    for name, fmt in [
        ("conversations.csv", "csv"),
        ("zendesk_tickets.json", "zendesk"),
        ("intercom_conversations.json", "intercom"),
    ]:
        report = import_file(
            db, FIXTURES / name, ImportOptions(partial=True), via="cli", filename=name
        )
        assert report.format == fmt
        assert report.created > 0, name
    sources = set(db.scalars(select(Conversation.source).distinct()))
    assert {"zendesk", "intercom"} <= sources


def test_gzip_files_are_read_and_format_detected(db: Session, tmp_path: Path) -> None:
    path = tmp_path / "export.jsonl.gz"
    path.write_bytes(gzip.compress(jsonl([conversation("a")]).getvalue()))
    report = import_file(db, path, ImportOptions(), via="cli")
    assert (report.format, report.created) == ("jsonl", 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00garbage", "cannot tell the format"),
        (b'{"external_id": "caf\xe9"}\n', "not UTF-8"),
        (b"\x1f\x8b\x08\x00truncated", "could not be read"),
        (gzip.compress(b'{"a": 1}\n' * 100, mtime=0)[:-30] + b"\x00" * 30, "could not be read"),
    ],
)
def test_unreadable_files_fail_cleanly(db: Session, content: bytes, message: str) -> None:
    options = ImportOptions(format=None if b"garbage" in content else "jsonl")
    with pytest.raises(ImportFailed, match=message):
        import_file(db, io.BytesIO(content), options, via="cli", filename="upload.bin")
    assert count(db, Conversation) == 0


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        ImportOptions(format="xml")
    with pytest.raises(ValueError, match="unknown_agents"):
        ImportOptions(unknown_agents="ignore")


def test_team_and_partner_names_match_ignoring_case(db: Session, make: Factory) -> None:
    partner = make.partner("Lumen Outsourcing")
    team = make.team("Lumen Night", partner)
    row = conversation("a", agent="ag-70")
    row["agent"] = {"external_id": "ag-70", "team": "lumen night ", "partner": "LUMEN outsourcing"}
    report = run(db, [row])
    assert report.ok
    assert (report.new_teams, report.new_partners) == ([], [])
    assert db.scalars(select(Agent.team_id).where(Agent.external_id == "ag-70")).one() == team.id


def test_deeply_nested_json_is_a_line_error_not_a_crash(db: Session) -> None:
    data = json.dumps(conversation("a")) + "\n" + "[" * 100_000 + "\n"
    report = import_file(db, io.BytesIO(data.encode()), ImportOptions(format="jsonl"), via="cli")
    assert [str(error) for error in report.errors] == [
        "line 2: json: invalid JSON: nested too deeply"
    ]


def test_postgres_plans_the_key_lookup_per_run_and_only_it(db: Session) -> None:
    """A cached generic plan made the lookup scan every row written so far (issue 3, speed)."""
    engine = db.get_bind()
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plan caching")
    with recorded_statements(engine) as sent:
        report = run(db, [conversation(f"c{i}") for i in range(24)], batch_size=4)
    statements = [" ".join(statement.split()) for statement in sent]
    assert report.committed
    lookups = [
        i
        for i, s in enumerate(statements)
        if "FROM conversation WHERE" in s and "conversation.external_id IN" in s
    ]
    assert len(lookups) == 6
    for index in lookups:
        assert statements[index - 1] == "SET LOCAL plan_cache_mode = force_custom_plan"
        assert statements[index + 1] == "SET LOCAL plan_cache_mode = auto"
    assert db.scalar(text("SHOW plan_cache_mode")) == "auto"
