"""The /api/v1 endpoints: bearer auth, role matrix, partner scope, imports, listing, errors."""

from __future__ import annotations

import gzip
import itertools
import json
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.auth.tokens import create_token, revoke_token
from qa_app.conversations.models import Conversation, ConversationImport, Message
from qa_app.org.models import Agent, OrganisationSettings, Team
from qa_app.org.roles import Role
from tests.conftest import Factory, bearer, login
from tests.statements import recorded_statements

JSONL = "application/x-ndjson"
ALL_ROLES = list(Role)
EDITOR_ROLES = {Role.ADMIN, Role.MANAGER}


def record(external_id: str, **fields: Any) -> dict[str, Any]:
    """A valid canonical conversation; ``fields`` override or add keys."""
    data: dict[str, Any] = {
        "external_id": external_id,
        "source": "api-test",
        "channel": "chat",
        "agent": {"external_id": "ag-api", "name": "Api Agent", "team": "Api Team"},
        "started_at": "2026-10-01T09:00:00+02:00",
        "ended_at": "2026-10-01T09:10:00+02:00",
        "csat": 4,
        "tags": ["Billing"],
        "metadata": {"queue": "billing"},
        "messages": [
            {"speaker": "customer", "text": "My invoice is wrong.", "sent_at": None},
            {"speaker": "agent", "text": "Let me fix it.", "author": "ag-api"},
        ],
    }
    data.update(fields)
    return data


def jsonl(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def count(db: Session, model: Any) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def editor(make: Factory, db: Session) -> dict[str, str]:
    """Headers of a manager's token."""
    return bearer(db, make.user(Role.MANAGER))


def post(client: Any, auth: dict[str, str], body: bytes | str, **options: Any) -> Any:
    """POST a body; ``content_type`` and ``headers`` go to the request, the rest to the query."""
    content_type = options.pop("content_type", JSONL)
    extra = options.pop("headers", {})
    return client.post(
        "/api/v1/conversations",
        query_string=options,
        data=body,
        headers={**auth, **extra},
        content_type=content_type,
    )


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Bearer qa_not-a-real-token", "Bearer nonsense", "Basic Zm9v"],
)
def test_requests_without_a_valid_token_get_401_json(
    client: Any, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for method, url in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/conversations"),
        ("POST", "/api/v1/conversations"),
        ("GET", "/api/v1/conversations/1"),
    ]:
        response = client.open(url, method=method, headers=headers)
        assert response.status_code == 401, (method, url)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["error"]["status"] == 401
        assert response.json["error"]["message"]


def test_revoked_token_gets_401(client: Any, make: Factory, db: Session) -> None:
    token, secret = create_token(db, make.user(Role.ADMIN), "old")
    revoke_token(db, token)
    db.commit()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_lowercase_bearer_scheme_is_accepted(client: Any, make: Factory, db: Session) -> None:
    _, secret = create_token(db, make.user(Role.AGENT), "t")
    db.commit()
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"bearer {secret}"}).status_code == 200
    )


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_session_cookie_alone_does_not_authorise_the_api(
    client: Any, make: Factory, db: Session, role: Role
) -> None:
    login(client, make.user(role))
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/conversations").status_code == 401
    response = post(client, {}, jsonl(record("c-1")))
    assert response.status_code == 401
    assert count(db, Conversation) == 0


def test_me_describes_the_tokens_user(client: Any, make: Factory, db: Session) -> None:
    partner = make.partner("Vendor")
    user = make.user(Role.PARTNER_VIEWER, partner=partner)
    response = client.get("/api/v1/me", headers=bearer(db, user))
    assert response.json == {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": "partner_viewer",
        "partner": {"id": partner.id, "name": "Vendor"},
        "agent": None,
    }
    assert response.headers["Cache-Control"] == "no-store"


# --- role matrix and scope --------------------------------------------------------------------


@pytest.fixture
def world(make: Factory) -> dict[str, Any]:
    """Partner A's team and agent (in everyone's scope below), partner B's, and an in-house one."""
    partner_a, partner_b = make.partner("Alpha BPO"), make.partner("Beta BPO")
    agent_a = make.agent(make.team("Alpha team", partner_a), name="Alpha agent")
    agent_b = make.agent(make.team("Beta team", partner_b), name="Beta agent")
    agent_house = make.agent(make.team("House team"), name="House agent")
    return {
        "partner_a": partner_a,
        "agent_a": agent_a,
        "conversation_a": make.conversation(agent_a),
        "conversation_b": make.conversation(agent_b),
        "conversation_house": make.conversation(agent_house),
        "agent_house": agent_house,
    }


def user_of(make: Factory, world: dict[str, Any], role: Role) -> User:
    if role in {Role.PARTNER_VIEWER, Role.PARTNER_QA}:
        return make.user(role, partner=world["partner_a"])
    if role == Role.AGENT:
        return make.user(role, agent=world["agent_a"])
    return make.user(role)


@pytest.mark.parametrize("role", ALL_ROLES)
def test_role_matrix(
    client: Any, make: Factory, db: Session, world: dict[str, Any], role: Role
) -> None:
    headers = bearer(db, user_of(make, world, role))
    conversation_id = world["conversation_a"].id
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    assert client.get("/api/v1/conversations", headers=headers).status_code == 200
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=headers)
    assert detail.status_code == 200
    created = post(client, headers, jsonl(record("matrix-1")))
    if role in EDITOR_ROLES:
        assert created.status_code == 201
    else:
        assert created.status_code == 403
        assert created.json["error"]["status"] == 403
        assert db.scalar(select(Conversation).where(Conversation.external_id == "matrix-1")) is None


EXPECTED_VISIBLE = {
    Role.ADMIN: {"conversation_a", "conversation_b", "conversation_house"},
    Role.MANAGER: {"conversation_a", "conversation_b", "conversation_house"},
    Role.QA_SPECIALIST: {"conversation_a", "conversation_b", "conversation_house"},
    Role.PARTNER_VIEWER: {"conversation_a"},
    Role.PARTNER_QA: {"conversation_a"},
    Role.AGENT: {"conversation_a"},
}


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_role_lists_and_reads_only_its_scope(
    client: Any, make: Factory, db: Session, world: dict[str, Any], role: Role
) -> None:
    headers = bearer(db, user_of(make, world, role))
    listed = client.get("/api/v1/conversations", headers=headers).json
    visible = EXPECTED_VISIBLE[role]
    assert {item["id"] for item in listed["items"]} == {world[name].id for name in visible}
    assert listed["total"] == len(visible)
    for name in ("conversation_a", "conversation_b", "conversation_house"):
        response = client.get(f"/api/v1/conversations/{world[name].id}", headers=headers)
        if name in visible:
            assert response.status_code == 200
        else:
            assert response.status_code == 404, name
            assert response.json["error"]["status"] == 404


def test_agent_sees_only_own_conversations_not_teammates(
    client: Any, make: Factory, db: Session
) -> None:
    team = make.team("Shared team")
    me, teammate = make.agent(team), make.agent(team)
    mine, theirs = make.conversation(me), make.conversation(teammate)
    headers = bearer(db, make.user(Role.AGENT, agent=me))
    listed = client.get("/api/v1/conversations", headers=headers).json
    assert [item["id"] for item in listed["items"]] == [mine.id]
    assert client.get(f"/api/v1/conversations/{theirs.id}", headers=headers).status_code == 404


def test_missing_conversation_is_404_json(client: Any, make: Factory, db: Session) -> None:
    response = client.get("/api/v1/conversations/999999", headers=bearer(db, make.user()))
    assert response.status_code == 404
    assert response.is_json


# --- reading ----------------------------------------------------------------------------------


def test_detail_has_summary_metadata_and_ordered_messages(
    client: Any, make: Factory, db: Session
) -> None:
    partner = make.partner("Gamma BPO")
    team = make.team("Gamma team", partner)
    agent = make.agent(team, name="Gina")
    conversation = make.conversation(
        agent,
        messages=[("customer", "First"), ("agent", "Second"), ("customer", "Third")],
        tags=["refund", "vip"],
        csat=5,
        extra={"queue": "refunds"},
        language="en",
        status="closed",
        redactions={"email": 1},
    )
    response = client.get(
        f"/api/v1/conversations/{conversation.id}", headers=bearer(db, make.user())
    )
    body = response.json
    assert body["id"] == conversation.id
    assert body["agent"] == {"id": agent.id, "external_id": agent.external_id, "name": "Gina"}
    assert body["team"] == {"id": team.id, "name": "Gamma team"}
    assert body["partner"] == {"id": partner.id, "name": "Gamma BPO"}
    assert body["tags"] == ["refund", "vip"]
    assert body["metadata"] == {"queue": "refunds"}
    assert body["redactions"] == {"email": 1}
    assert (body["csat"], body["language"], body["status"]) == (5, "en", "closed")
    assert body["message_count"] == 3
    assert body["handle_time_seconds"] == 720
    assert [m["text"] for m in body["messages"]] == ["First", "Second", "Third"]
    assert [m["position"] for m in body["messages"]] == [0, 1, 2]
    assert body["started_at"].endswith("+00:00")
    assert datetime.fromisoformat(body["started_at"]) == conversation.started_at
    assert body["messages"][1]["sent_at"].endswith("+00:00")


def test_list_paginates_with_a_next_link(client: Any, make: Factory, db: Session) -> None:
    agent = make.agent()
    ids = [make.conversation(agent).id for _ in range(5)]
    headers = bearer(db, make.user())
    seen: list[int] = []
    url = "/api/v1/conversations?per_page=2&channel=chat"
    pages = 0
    while url:
        body = client.get(url, headers=headers).json
        assert (body["total"], body["per_page"]) == (5, 2)
        seen += [item["id"] for item in body["items"]]
        url = body["next"]
        pages += 1
        if url:
            assert "channel=chat" in url
            assert f"page={pages + 1}" in url
    assert pages == 3
    assert seen == list(reversed(ids))  # newest first


@pytest.mark.parametrize(
    ("query", "message_part"),
    [
        ("per_page=0", "per_page"),
        ("page=abc", "page"),
        ("channel=fax", "channel"),
        ("team_id=x", "team_id"),
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("updated_since=2026-10-01T09:00:00", "UTC offset"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(
    client: Any, make: Factory, db: Session, query: str, message_part: str
) -> None:
    response = client.get(f"/api/v1/conversations?{query}", headers=bearer(db, make.user()))
    assert response.status_code == 400
    assert message_part in response.json["error"]["message"]


def test_per_page_is_capped_at_200(client: Any, make: Factory, db: Session) -> None:
    body = client.get("/api/v1/conversations?per_page=5000", headers=bearer(db, make.user())).json
    assert body["per_page"] == 200


def test_list_filters(client: Any, make: Factory, db: Session) -> None:
    team_a, team_b = make.team("Filter A"), make.team("Filter B")
    agent_a, agent_b = make.agent(team_a), make.agent(team_b)
    long_ago = datetime(2026, 9, 5, tzinfo=UTC)
    first = make.conversation(
        agent_a,
        tags=["refund"],
        started_at=datetime(2026, 9, 1, 12, 0, tzinfo=UTC),
        updated_at=long_ago,
    )
    second = make.conversation(
        agent_b,
        channel="email",
        source="zendesk",
        started_at=datetime(2026, 9, 2, 23, 30, tzinfo=UTC),
        updated_at=datetime(2026, 9, 20, tzinfo=UTC),
    )
    third = make.conversation(
        agent_a,
        tags=["refund", "vip"],
        started_at=datetime(2026, 9, 3, 8, 0, tzinfo=UTC),
        updated_at=long_ago,
    )
    headers = bearer(db, make.user(Role.QA_SPECIALIST))

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/conversations?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return {item["id"] for item in response.json["items"]}

    assert ids("channel=EMAIL") == {second.id}
    assert ids(f"agent={agent_a.external_id}") == {first.id, third.id}
    assert ids("agent=nobody") == set()
    assert ids(f"team_id={team_b.id}") == {second.id}
    assert ids("tag=Refund") == {first.id, third.id}
    assert ids("tag=refund&tag=vip") == {third.id}
    assert ids("source=zendesk") == {second.id}
    assert ids("from=2026-09-02&to=2026-09-02") == {second.id}  # a date as `to` covers its day
    assert ids("from=2026-09-02T00:00:00Z") == {second.id, third.id}
    assert ids("to=2026-09-03T10:00:00+02:00") == {first.id, second.id}  # 08:00 UTC is excluded
    assert ids("to=2026-09-03T10:00:01+02:00") == {first.id, second.id, third.id}  # unencoded +
    assert ids("updated_since=2026-09-15T00:00:00Z") == {second.id}


def statements(app: Flask) -> AbstractContextManager[list[str]]:
    return recorded_statements(app.extensions["qa_db_engine"])


def test_listing_uses_a_fixed_number_of_queries(
    app: Flask, client: Any, make: Factory, db: Session
) -> None:
    headers = bearer(db, make.user())

    def add_conversations(number: int) -> None:
        for _ in range(number):
            partner = make.partner()
            make.conversation(make.agent(make.team(partner=partner)), tags=["a", "b"])

    add_conversations(2)
    with statements(app) as few:
        assert len(client.get("/api/v1/conversations", headers=headers).json["items"]) == 2
    add_conversations(28)
    with statements(app) as many:
        assert len(client.get("/api/v1/conversations", headers=headers).json["items"]) == 30
    assert len(many) == len(few)
    assert len(many) <= 12


# --- importing --------------------------------------------------------------------------------


def test_post_json_array_creates_conversations(client: Any, make: Factory, db: Session) -> None:
    user = make.user(Role.ADMIN)
    headers = bearer(db, user)
    body = json.dumps([record("arr-1"), record("arr-2", channel="Email")])
    response = post(client, headers, body, content_type="application/json")
    assert response.status_code == 201, response.json
    report = response.json
    assert (report["total"], report["created"], report["committed"]) == (2, 2, True)
    assert (report["new_agents"], report["new_teams"]) == (["ag-api"], ["Api Team"])
    run = db.get(ConversationImport, report["import_id"])
    assert (run.via, run.user_id, run.format) == ("api", user.id, "jsonl")

    listed = client.get("/api/v1/conversations?source=api-test", headers=headers).json
    assert {item["external_id"] for item in listed["items"]} == {"arr-1", "arr-2"}
    item = next(item for item in listed["items"] if item["external_id"] == "arr-1")
    assert item["started_at"] == "2026-10-01T07:00:00+00:00"
    assert item["tags"] == ["billing"]
    assert item["agent"]["external_id"] == "ag-api"


@pytest.mark.parametrize(
    "content_type",
    [JSONL, "application/jsonl", "text/plain; charset=utf-8", "application/x-jsonlines"],
)
def test_post_json_lines_creates_conversations(
    client: Any, editor: dict[str, str], db: Session, content_type: str
) -> None:
    response = post(client, editor, jsonl(record("l-1"), record("l-2")), content_type=content_type)
    assert response.status_code == 201
    assert response.json["created"] == 2
    assert count(db, Conversation) == 2


def test_post_gzip_json_lines_of_the_demo_data(client: Any, make: Factory, db: Session) -> None:
    admin = bearer(db, make.user(Role.ADMIN))  # the demo names partners: only admins add them
    demo = resources.files("qa_app.demo").joinpath("conversations-demo.jsonl.gz").read_bytes()
    lines = list(itertools.islice(gzip.decompress(demo).splitlines(keepends=True), 20))
    body = gzip.compress(b"".join(lines))
    response = post(
        client, admin, body, unknown_agents="create", headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 201, response.json
    assert response.json["created"] == 20
    assert count(db, Conversation) == 20
    assert count(db, Message) == sum(len(json.loads(line)["messages"]) for line in lines)


def test_gzip_is_recognised_without_content_encoding(client: Any, editor: dict[str, str]) -> None:
    response = post(client, editor, gzip.compress(jsonl(record("z-1"))))
    assert response.status_code == 201


def test_gzip_json_array(client: Any, editor: dict[str, str]) -> None:
    body = gzip.compress(json.dumps([record("ga-1")]).encode())
    response = post(
        client, editor, body, content_type="application/json", headers={"Content-Encoding": "gzip"}
    )
    assert response.status_code == 201


def test_reposting_the_same_conversations_changes_nothing(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    body = jsonl(record("same-1"), record("same-2"))
    assert post(client, editor, body).status_code == 201
    updated_at = db.scalar(
        select(Conversation.updated_at).where(Conversation.external_id == "same-1")
    )
    again = post(client, editor, body)
    assert again.status_code == 200
    assert (again.json["unchanged"], again.json["created"], again.json["updated"]) == (2, 0, 0)
    assert count(db, Conversation) == 2
    assert (
        db.scalar(select(Conversation.updated_at).where(Conversation.external_id == "same-1"))
        == updated_at
    )


def test_changed_conversation_is_updated_with_messages_replaced(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    assert post(client, editor, jsonl(record("chg-1"))).status_code == 201
    changed = record(
        "chg-1", csat=2, messages=[{"speaker": "customer", "text": "Only this one now."}]
    )
    response = post(client, editor, jsonl(changed))
    assert response.status_code == 201
    assert (response.json["updated"], response.json["created"]) == (1, 0)
    conversation_id = db.scalar(select(Conversation.id).where(Conversation.external_id == "chg-1"))
    body = client.get(f"/api/v1/conversations/{conversation_id}", headers=editor).json
    assert body["csat"] == 2
    assert body["message_count"] == 1
    assert [m["text"] for m in body["messages"]] == ["Only this one now."]
    assert count(db, Message) == 1


def test_invalid_conversations_are_422_with_precise_errors_and_nothing_written(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    body = jsonl(record("ok-1"), record("bad-1", csat=7), record("ok-2"))
    response = post(client, editor, body)
    assert response.status_code == 422
    report = response.json
    assert report["committed"] is False
    assert report["error_count"] == 1
    assert report["errors"] == [
        {"location": "line 2", "field": "csat", "reason": "must be an integer 1-5, got 7"}
    ]
    assert count(db, Conversation) == 0
    assert count(db, Agent) == 0
    assert count(db, ConversationImport) == 0


def test_json_array_errors_name_the_element_index(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    bad = record("bad-2", messages=[{"speaker": "robot", "text": "hi"}])
    body = json.dumps([record("ok-1"), bad, "not an object"])
    response = post(client, editor, body, content_type="application/json")
    assert response.status_code == 422
    errors = {(e["location"], e["field"]) for e in response.json["errors"]}
    assert errors == {("index 1", "messages[0].speaker"), ("index 2", "json")}
    assert count(db, Conversation) == 0


def test_partial_import_keeps_the_good_conversations(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    body = jsonl(record("p-1"), record("p-2", channel="pigeon"), record("p-3"))
    response = post(client, editor, body, partial="true")
    assert response.status_code == 201
    assert (response.json["created"], response.json["rejected"]) == (2, 1)
    assert response.json["errors"][0]["field"] == "channel"
    assert count(db, Conversation) == 2


def test_dry_run_reports_and_writes_nothing(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    response = post(client, editor, jsonl(record("d-1"), record("d-2")), dry_run="1")
    assert response.status_code == 200
    assert (response.json["created"], response.json["dry_run"], response.json["committed"]) == (
        2,
        True,
        False,
    )
    assert count(db, Conversation) == 0
    assert count(db, Team) == 0
    assert count(db, ConversationImport) == 0


def test_unknown_agents_can_be_rejected(client: Any, editor: dict[str, str], db: Session) -> None:
    response = post(client, editor, jsonl(record("u-1")), unknown_agents="reject")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "agent.id"
    assert count(db, Agent) == 0


def test_source_parameter_overrides_the_files_source(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    assert post(client, editor, jsonl(record("s-1")), source="freshdesk").status_code == 201
    assert db.scalar(select(Conversation.source)) == "freshdesk"


def test_personal_data_is_redacted_before_storage(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    text = "Write to jane.doe@example.com please."
    messages = [{"speaker": "customer", "text": text}]
    response = post(client, editor, jsonl(record("r-1", messages=messages)))
    assert response.json["redactions"] == {"email": 1}
    conversation_id = db.scalar(select(Conversation.id))
    body = client.get(f"/api/v1/conversations/{conversation_id}", headers=editor).json
    assert body["messages"][0]["text"] == "Write to [EMAIL] please."
    assert body["redactions"] == {"email": 1}
    assert "jane.doe" not in json.dumps(body)


def test_redaction_follows_the_organisation_setting(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    db.add(OrganisationSettings(redact_pii=False))
    db.commit()
    messages = [{"speaker": "customer", "text": "I am jane.doe@example.com"}]
    assert post(client, editor, jsonl(record("r-2", messages=messages))).status_code == 201
    assert db.scalar(select(Message.text)) == "I am jane.doe@example.com"


@pytest.mark.parametrize(
    ("content_type", "headers"),
    [
        ("application/xml", {}),
        ("", {}),
        ("multipart/form-data; boundary=x", {}),
        ("application/json; charset=latin-1", {}),
        (JSONL, {"Content-Encoding": "br"}),
    ],
)
def test_unsupported_media_is_415(
    client: Any, editor: dict[str, str], db: Session, content_type: str, headers: dict[str, str]
) -> None:
    response = post(
        client, editor, jsonl(record("x-1")), content_type=content_type, headers=headers
    )
    assert response.status_code == 415
    assert response.json["error"]["status"] == 415
    assert count(db, Conversation) == 0


@pytest.mark.parametrize(
    ("body", "content_type", "headers", "message_part"),
    [
        (b'[{"external_id": "x"', "application/json", {}, "not valid JSON"),
        (b'{"external_id": "x"}', "application/json", {}, "array"),
        (b'{"a": 1}\n{"a": 2}\n', "application/json", {}, "application/x-ndjson"),
        (b"[NaN]", "application/json", {}, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", {}, "nested too deeply"),
        (b'["caf\xe9"]', "application/json", {}, "UTF-8"),
        (b"caf\xe9\n", JSONL, {}, "UTF-8"),
        (b"[]", "application/json", {"Content-Encoding": "gzip"}, "not gzip"),
        (gzip.compress(jsonl(record("t-1")), mtime=0)[:-12], JSONL, {}, "could not be read"),
        (gzip.compress(b"[]" * 1000, mtime=0)[:-12], "application/json", {}, "gzip"),
    ],
)
def test_unreadable_bodies_are_400(
    client: Any,
    editor: dict[str, str],
    db: Session,
    body: bytes,
    content_type: str,
    headers: dict[str, str],
    message_part: str,
) -> None:
    response = post(client, editor, body, content_type=content_type, headers=headers)
    assert response.status_code == 400, response.json
    assert message_part in response.json["error"]["message"]
    assert count(db, Conversation) == 0


def test_empty_body_is_400_and_a_body_of_unknown_length_411(
    client: Any, editor: dict[str, str]
) -> None:
    empty = client.post(
        "/api/v1/conversations",
        headers=editor,
        content_type=JSONL,
        environ_overrides={"CONTENT_LENGTH": "0"},
    )
    assert empty.status_code == 400
    assert "empty" in empty.json["error"]["message"]
    # Without Content-Length, and not chunked, the server cannot tell where the body ends.
    unknown = client.post("/api/v1/conversations", headers=editor, content_type=JSONL)
    assert unknown.status_code == 411


def test_corrupt_gzip_data_is_400(client: Any, editor: dict[str, str]) -> None:
    compressed = bytearray(gzip.compress(jsonl(*(record(f"g-{n}") for n in range(50)))))
    compressed[30:60] = bytes(30)
    response = post(client, editor, bytes(compressed))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("query", "message_part"),
    [({"partial": "maybe"}, "partial"), ({"unknown_agents": "ignore"}, "unknown_agents")],
)
def test_bad_import_parameters_are_400(
    client: Any, editor: dict[str, str], query: dict[str, str], message_part: str
) -> None:
    response = post(client, editor, jsonl(record("q-1")), **query)
    assert response.status_code == 400
    assert message_part in response.json["error"]["message"]


@pytest.mark.parametrize(
    ("setting", "body", "content_type"),
    [
        ("QA_API_MAX_JSON_BYTES", json.dumps([record("big")]).encode(), "application/json"),
        ("QA_API_MAX_LINE_BYTES", jsonl(record("big")), JSONL),
        ("QA_API_MAX_INFLATED_BYTES", gzip.compress(jsonl(record("big")), mtime=0), JSONL),
    ],
)
def test_bodies_over_the_limits_are_413_and_write_nothing(
    app: Flask,
    client: Any,
    editor: dict[str, str],
    db: Session,
    setting: str,
    body: bytes,
    content_type: str,
) -> None:
    app.config[setting] = 200
    response = post(client, editor, body, content_type=content_type)
    assert response.status_code == 413
    assert "200" in response.json["error"]["message"]
    assert count(db, Conversation) == 0


def test_body_over_max_content_length_is_413_json(
    app: Flask, client: Any, editor: dict[str, str]
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = post(client, editor, jsonl(record("big")))
    assert response.status_code == 413
    assert response.json["error"]["status"] == 413


def test_many_lines_stream_within_the_line_limit(
    app: Flask, client: Any, editor: dict[str, str], db: Session
) -> None:
    app.config["QA_API_MAX_LINE_BYTES"] = 1000
    body = jsonl(*(record(f"s-{n}") for n in range(300)))
    assert len(body) > 100_000
    response = post(client, editor, body)
    assert response.status_code == 201
    assert count(db, Conversation) == 300


# --- the API as a whole -----------------------------------------------------------------------


def test_unknown_api_paths_and_methods_answer_json(client: Any, make: Factory, db: Session) -> None:
    headers = bearer(db, make.user())
    missing = client.get("/api/v1/nothing-here", headers=headers)
    assert (missing.status_code, missing.json["error"]["status"]) == (404, 404)
    wrong = client.delete("/api/v1/conversations", headers=headers)
    assert (wrong.status_code, wrong.json["error"]["status"]) == (405, 405)


def test_api_never_sets_a_session_cookie(client: Any, make: Factory, db: Session) -> None:
    response = client.get("/api/v1/conversations", headers=bearer(db, make.user()))
    assert "Set-Cookie" not in response.headers


def test_a_deeply_nested_json_line_is_reported_at_its_line(
    client: Any, editor: dict[str, str], db: Session
) -> None:
    body = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    response = client.post(
        "/api/v1/conversations",
        data=body,
        headers={**editor, "Content-Type": JSONL},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"location": "line 1", "field": "json", "reason": "invalid JSON: nested too deeply"}
    ]
