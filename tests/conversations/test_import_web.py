"""Uploading a conversation file in the browser: preview, commit, refusals and the history."""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.models import Conversation, ConversationImport, Message
from qa_app.conversations.uploads import UploadBusy, UploadStore, is_token
from qa_app.org.models import Agent, OrganisationSettings
from qa_app.org.roles import Role
from tests.conftest import Factory, login
from tests.conversations.web_upload import COMMIT, PREVIEW, commit, jsonl, line, token_in, upload

FIXTURES = Path(__file__).parent / "fixtures"
REVIEW = "/conversations/import/review"
DISCARD = "/conversations/import/discard"
HISTORY = "/conversations/import/history"
BLOCKED = "Nothing will be imported while there are problems"


@pytest.fixture(autouse=True)
def upload_folder(app: Flask, tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    app.config["QA_UPLOAD_FOLDER"] = str(folder)
    return folder


@pytest.fixture
def manager(make: Factory) -> User:
    make.partner("Northwind BPO")  # managers may not add partners (admins do), only use them
    return make.user(Role.MANAGER, email="manager@example.org")


@pytest.fixture
def web(client: FlaskClient, manager: User) -> FlaskClient:
    login(client, manager)
    return client


def commit_as_previewed(client: FlaskClient, preview: Any) -> Any:
    """Post the preview page's commit form exactly as the browser would."""
    html = preview.get_data(as_text=True)
    form = re.search(r'<form[^>]*data-testid="commit-form">(.*?)</form>', html, re.S)
    assert form, "the preview has no commit form"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form.group(1)))
    fields.pop("csrf_token", None)
    return client.post(COMMIT, data=fields)


def conversations(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Conversation)) or 0


def count(response: Any, testid: str) -> int:
    html = response.get_data(as_text=True)
    found = re.search(rf'data-testid="{testid}">([\d,]+)<', html)
    assert found, f"no {testid} on the page"
    return int(found.group(1).replace(",", ""))


def stored_files(folder: Path, suffix: str = ".upload") -> list[Path]:
    return sorted(folder.glob(f"*{suffix}")) if folder.exists() else []


def flashes(client: FlaskClient) -> list[str]:
    with client.session_transaction() as session:
        return [message for _, message in session.get("_flashes", [])]


def after_commit_url(app: Flask) -> str:
    with app.test_request_context():
        if "conversations.list_conversations" in app.view_functions:
            return url_for("conversations.list_conversations")
        return url_for("conversation_imports.history")


# The happy path ---------------------------------------------------------------------------------

TWO_CONVERSATIONS = jsonl(line("web-1"), line("web-2"))


@pytest.mark.parametrize(
    ("filename", "content", "expected"),
    [
        ("conversations.jsonl", TWO_CONVERSATIONS, 2),
        ("conversations.jsonl.gz", gzip.compress(TWO_CONVERSATIONS, mtime=0), 2),
        ("conversations.csv", (FIXTURES / "conversations.csv").read_bytes(), 2),
    ],
    ids=["jsonl", "gzip-jsonl", "csv"],
)
def test_upload_preview_then_commit_imports_the_file(
    app: Flask,
    web: FlaskClient,
    db: Session,
    manager: User,
    upload_folder: Path,
    filename: str,
    content: bytes,
    expected: int,
) -> None:
    preview = upload(web, content, filename)

    assert preview.status_code == 200
    assert count(preview, "count-read") == expected
    assert count(preview, "count-create") == expected
    assert conversations(db) == 0, "a preview must write nothing"
    assert db.scalar(select(func.count()).select_from(ConversationImport)) == 0
    assert len(stored_files(upload_folder)) == 1

    response = commit_as_previewed(web, preview)

    assert response.status_code == 302
    assert response.headers["Location"] == after_commit_url(app)
    assert any(f"{filename} imported: {expected} conversations read" in m for m in flashes(web))
    assert conversations(db) == expected
    run = db.scalars(select(ConversationImport)).one()
    assert (run.via, run.filename, run.user_id, run.created) == ("web", filename, manager.id, 2)
    assert stored_files(upload_folder) == [], "the stored upload is deleted after the import"


def test_the_stored_file_is_named_by_a_random_token_not_by_the_user(
    web: FlaskClient, upload_folder: Path
) -> None:
    upload(web, TWO_CONVERSATIONS, "../../evil name.jsonl")
    (stored,) = stored_files(upload_folder)
    assert is_token(stored.stem)
    assert stored.parent == upload_folder
    assert stored.stat().st_mode & 0o077 == 0, "uploads are private to the server's user"


def test_preview_shows_first_rows_and_what_would_be_created(web: FlaskClient, db: Session) -> None:
    preview = upload(web, TWO_CONVERSATIONS, "conversations.jsonl")
    html = preview.get_data(as_text=True)

    assert "web-1" in html
    assert "Where is parcel web-1?" in html
    assert "Ana Lima" in html
    assert "2026-09-01 08:00" in html
    assert 'data-testid="new-agents"' in html
    assert "ag-web-1" in html
    assert "Tier 1 Chat" in html
    assert db.scalar(select(func.count()).select_from(Agent)) == 0, "nor agents are created"


def test_preview_escapes_transcript_text(web: FlaskClient) -> None:
    hostile = line(
        "web-x",
        messages=[{"speaker": "customer", "text": "<script>alert('x')</script> help"}],
    )
    html = upload(web, jsonl(hostile), "hostile.jsonl").get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html


def test_committing_the_same_upload_twice_imports_it_once(web: FlaskClient, db: Session) -> None:
    token = token_in(upload(web, TWO_CONVERSATIONS, "conversations.jsonl"))
    assert commit(web, token, format="jsonl").status_code == 302

    again = commit(web, token, format="jsonl")

    assert again.status_code == 302
    assert any("has already been imported" in message for message in flashes(web))
    assert db.scalar(select(func.count()).select_from(ConversationImport)) == 1


def test_discarding_an_upload_deletes_it(
    web: FlaskClient, db: Session, upload_folder: Path
) -> None:
    token = token_in(upload(web, TWO_CONVERSATIONS, "conversations.jsonl"))

    response = web.post(DISCARD, data={"token": token})

    assert response.status_code == 302
    assert list(upload_folder.iterdir()) == []
    assert commit(web, token, format="jsonl").status_code == 404
    assert conversations(db) == 0


def test_uploads_older_than_a_day_are_cleaned_when_a_new_one_arrives(
    web: FlaskClient, upload_folder: Path
) -> None:
    store = UploadStore(upload_folder)
    old = store.save(io.BytesIO(b"old"), user_id=1, filename="old.jsonl")
    recent = store.save(io.BytesIO(b"recent"), user_id=1, filename="recent.jsonl")
    unrelated = upload_folder / "keep-me.txt"
    unrelated.write_text("not an upload")
    two_days_ago = time.time() - timedelta(days=2).total_seconds()
    for path in upload_folder.glob(f"{old.token}.*"):
        os.utime(path, (two_days_ago, two_days_ago))

    upload(web, TWO_CONVERSATIONS, "conversations.jsonl")

    assert not list(upload_folder.glob(f"{old.token}.*"))
    assert store.find(recent.token, user_id=1) is not None
    assert unrelated.exists()


# Problems in the file ---------------------------------------------------------------------------

BAD_FILE = jsonl(
    line("good-1"),
    line("bad-csat", csat=7),
    line("bad-many", channel="carrier pigeon", started_at=None),
    line("good-2"),
)


def test_bad_rows_are_listed_with_line_field_and_reason(web: FlaskClient, db: Session) -> None:
    preview = upload(web, BAD_FILE, "conversations.jsonl")
    html = preview.get_data(as_text=True)

    problems = re.findall(
        r"<tr><td[^>]*>(line \d+)</td><td><code>([^<]+)</code></td><td>([^<]+)</td></tr>", html
    )
    assert ("line 2", "csat", "must be an integer 1-5, got 7") in problems
    assert ("line 3", "started_at", "is required") in problems
    assert any(p[0] == "line 3" and p[1] == "channel" for p in problems)
    assert count(preview, "count-rejected") == 2
    assert BLOCKED in html
    assert re.search(r"<button[^>]*disabled[^>]*>Commit import</button>", html)
    assert conversations(db) == 0


def test_commit_is_refused_while_there_are_problems(web: FlaskClient, db: Session) -> None:
    token = token_in(upload(web, BAD_FILE, "conversations.jsonl"))

    response = commit(web, token, format="jsonl")

    assert response.status_code == 200
    assert "Nothing was imported: 3 problems found." in response.get_data(as_text=True)
    assert conversations(db) == 0
    assert db.scalar(select(func.count()).select_from(ConversationImport)) == 0


def test_partial_import_keeps_the_good_conversations(web: FlaskClient, db: Session) -> None:
    preview = upload(web, BAD_FILE, "conversations.jsonl", partial=True)
    html = preview.get_data(as_text=True)
    assert BLOCKED not in html
    assert "the 2 with problems will be skipped" in html

    response = commit_as_previewed(web, preview)

    assert response.status_code == 302
    assert any("2 conversations with problems were skipped" in m for m in flashes(web))
    ids = db.scalars(select(Conversation.external_id).order_by(Conversation.external_id)).all()
    assert ids == ["good-1", "good-2"]
    assert db.scalars(select(ConversationImport.rejected)).one() == 2


def test_previewing_again_with_partial_unblocks_the_commit(web: FlaskClient, db: Session) -> None:
    token = token_in(upload(web, BAD_FILE, "conversations.jsonl"))

    again = web.post(
        REVIEW, data={"token": token, "format": "", "unknown_agents": "create", "partial": "y"}
    )

    assert again.status_code == 200
    assert BLOCKED not in again.get_data(as_text=True)
    assert token_in(again) == token
    assert commit_as_previewed(web, again).status_code == 302
    assert conversations(db) == 2


def test_unknown_agents_are_rejected_when_asked(
    web: FlaskClient, db: Session, make: Factory
) -> None:
    known = make.agent(name="Known Agent")
    content = jsonl(
        line("known", agent=known.external_id), line("stranger", agent="ag-nobody-knows")
    )

    preview = upload(web, content, "conversations.jsonl", unknown_agents="reject")
    html = preview.get_data(as_text=True)
    assert "unknown agent &#39;ag-nobody-knows&#39;" in html
    assert BLOCKED in html
    assert (
        commit(web, token_in(preview), format="jsonl", unknown_agents="reject").status_code == 200
    )
    assert conversations(db) == 0

    partial = commit(web, token_in(preview), format="jsonl", unknown_agents="reject", partial=True)
    assert partial.status_code == 302
    assert db.scalars(select(Conversation.external_id)).all() == ["known"]
    assert db.scalar(select(Agent).where(Agent.external_id == "ag-nobody-knows")) is None


def test_unknown_agents_are_created_by_default(web: FlaskClient, db: Session) -> None:
    content = jsonl(line("stranger", agent={"external_id": "ag-new", "name": "New Person"}))
    preview = upload(web, content, "conversations.jsonl")
    assert "ag-new" in preview.get_data(as_text=True)

    assert commit_as_previewed(web, preview).status_code == 302

    agent = db.scalars(select(Agent).where(Agent.external_id == "ag-new")).one()
    assert agent.name == "New Person"
    assert agent.team.name == "Unassigned"


# Files that cannot be read ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "error"),
    [
        ("latin1.jsonl", jsonl(line("x")).replace(b"Where", "Wh\xe9re".encode("latin-1")), "UTF-8"),
        ("notes.json", b"Dear support team, here are my notes.\n", "cannot tell the format"),
        ("broken.jsonl.gz", gzip.compress(TWO_CONVERSATIONS, mtime=0)[:-12], "could not be read"),
        ("empty.jsonl", b"", "The file is empty."),
        ("notes.txt", TWO_CONVERSATIONS, "Choose a .jsonl, .json or .csv file"),
    ],
    ids=["not-utf8", "unknown-format", "corrupt-gzip", "empty", "wrong-extension"],
)
def test_unreadable_file_rerenders_the_form_with_an_error(
    web: FlaskClient,
    db: Session,
    upload_folder: Path,
    filename: str,
    content: bytes,
    error: str,
) -> None:
    response = upload(web, content, filename, source="helpdesk")
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert 'data-testid="upload-form"' in html
    assert re.search(r'id="file-errors" class="invalid-feedback d-block">[^<]*' + error, html)
    assert 'value="helpdesk"' in html, "the options chosen are kept"
    assert conversations(db) == 0
    assert db.scalar(select(func.count()).select_from(ConversationImport)) == 0
    leftovers = list(upload_folder.iterdir()) if upload_folder.exists() else []
    assert leftovers == [], "nothing of the refused file is kept"


def test_upload_larger_than_the_limit_is_refused_before_it_is_stored(
    app: Flask, web: FlaskClient, upload_folder: Path
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 4096
    response = upload(web, TWO_CONVERSATIONS * 20, "big.jsonl")
    assert response.status_code == 413
    assert stored_files(upload_folder) == []


def test_upload_without_a_file_asks_for_one(web: FlaskClient) -> None:
    response = web.post(PREVIEW, data={"format": "", "unknown_agents": "create"})
    assert response.status_code == 200
    assert "Choose a file to import." in response.get_data(as_text=True)


# Tokens -----------------------------------------------------------------------------------------


def test_another_user_cannot_commit_or_discard_someone_elses_upload(
    client: FlaskClient, db: Session, make: Factory, manager: User, upload_folder: Path
) -> None:
    login(client, manager)
    token = token_in(upload(client, TWO_CONVERSATIONS, "conversations.jsonl"))
    client.post("/logout")
    login(client, make.user(Role.ADMIN, email="other-admin@example.org"))

    assert commit(client, token, format="jsonl").status_code == 404
    assert client.post(REVIEW, data={"token": token, "unknown_agents": "create"}).status_code == 404
    client.post(DISCARD, data={"token": token})
    assert conversations(db) == 0
    assert len(stored_files(upload_folder)) == 1, "the owner's upload is left alone"

    client.post("/logout")
    login(client, manager)
    assert commit(client, token, format="jsonl").status_code == 302
    assert conversations(db) == 2


@pytest.mark.parametrize(
    "token",
    ["../../etc/passwd", "", "a" * 42, "a" * 44, "a" * 42 + "/", "a" * 42 + "\n", "a" * 42 + "."],
)
def test_forged_tokens_are_rejected(web: FlaskClient, token: str) -> None:
    assert commit(web, token, format="jsonl").status_code == 400
    assert web.post(REVIEW, data={"token": token, "unknown_agents": "create"}).status_code == 400


def test_a_well_formed_unknown_token_is_not_found(web: FlaskClient) -> None:
    assert commit(web, "A" * 43, format="jsonl").status_code == 404


def test_upload_store_never_builds_a_path_from_a_forged_token(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    secret = tmp_path.parent / "secret.json"
    secret.write_text(json.dumps({"user_id": 1, "filename": "x"}))
    assert store.find("../secret", user_id=1) is None
    with pytest.raises(ValueError, match="not an upload token"):
        store._path("../secret", "json")


def test_upload_store_lets_only_one_request_import_an_upload(tmp_path: Path) -> None:
    store = UploadStore(tmp_path)
    stored = store.save(io.BytesIO(b"{}\n"), user_id=7, filename="x.jsonl")
    with store.claim(stored), pytest.raises(UploadBusy), store.claim(stored):
        pass
    assert store.data_path(stored).exists(), "a claim that did not import puts the file back"


# Redaction --------------------------------------------------------------------------------------

WITH_EMAIL = jsonl(
    line("pii", messages=[{"speaker": "customer", "text": "Mail me at jane.doe@example.com"}])
)


@pytest.mark.parametrize(
    ("redact", "stored"),
    [(True, "Mail me at [EMAIL]"), (False, "Mail me at jane.doe@example.com")],
    ids=["redaction-on", "redaction-off"],
)
def test_the_organisation_setting_decides_whether_personal_data_is_redacted(
    web: FlaskClient, db: Session, redact: bool, stored: str
) -> None:
    db.add(OrganisationSettings(name="Acme", redact_pii=redact))
    db.commit()

    preview = upload(web, WITH_EMAIL, "pii.jsonl")
    html = preview.get_data(as_text=True)
    if redact:
        assert re.search(r"Email addresses</td><td[^>]*>1<", html)
        assert "jane.doe@example.com" not in html
    else:
        assert "Redaction is off" in html
    assert commit_as_previewed(web, preview).status_code == 302

    assert db.scalars(select(Message.text)).one() == stored


def test_redaction_follows_the_installation_default_when_never_set(
    app: Flask, web: FlaskClient, db: Session
) -> None:
    app.config["QA_REDACT_PII"] = False
    assert commit_as_previewed(web, upload(web, WITH_EMAIL, "pii.jsonl")).status_code == 302
    assert "jane.doe@example.com" in db.scalars(select(Message.text)).one()


# History ----------------------------------------------------------------------------------------


def test_history_lists_imports_newest_first(web: FlaskClient, db: Session, manager: User) -> None:
    db.add(ConversationImport(via="cli", filename="nightly.jsonl.gz", format="jsonl", total=9))
    db.commit()
    commit_as_previewed(web, upload(web, TWO_CONVERSATIONS, "web-upload.jsonl"))

    for url in (HISTORY, "/conversations/import"):
        html = web.get(url).get_data(as_text=True)
        table = html[html.index('data-testid="imports-table"') :]
        assert table.index("web-upload.jsonl") < table.index("nightly.jsonl.gz")
        assert manager.name in table
        assert "command line" in table


def test_history_is_paginated(web: FlaskClient, db: Session) -> None:
    db.add_all(
        ConversationImport(via="cli", filename=f"file-{n:02}.jsonl", format="jsonl")
        for n in range(30)
    )
    db.commit()
    first = web.get(HISTORY).get_data(as_text=True)
    second = web.get(f"{HISTORY}?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first
    assert first.count("file-") == 25
    assert second.count("file-") == 5


def test_upload_page_explains_the_unknown_agent_rule(web: FlaskClient) -> None:
    html = web.get("/conversations/import").get_data(as_text=True)
    assert "Unassigned" in html
    assert "Reject: conversations of unknown agents are not imported" in html
    assert 'enctype="multipart/form-data"' in html


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MANAGER])
def test_import_is_in_the_navigation_of_admins_and_managers(
    client: FlaskClient, make: Factory, role: Role
) -> None:
    login(client, make.user(role))
    assert 'href="/conversations/import"' in client.get("/").get_data(as_text=True)


def test_import_is_not_in_the_navigation_of_qa_specialists(
    client: FlaskClient, make: Factory
) -> None:
    login(client, make.user(Role.QA_SPECIALIST))
    assert 'href="/conversations/import"' not in client.get("/").get_data(as_text=True)
