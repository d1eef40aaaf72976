"""In a real browser: a manager uploads a conversation file, checks the preview and commits it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from qa_app.conversations.models import Conversation, ConversationImport
from qa_app.org.roles import Role
from tests.browser.pages import log_in
from tests.conftest import Factory

expect = pytest.importorskip("playwright.sync_api").expect


def conversation(external_id: str, text: str) -> str:
    return json.dumps(
        {
            "external_id": external_id,
            "source": "helpdesk",
            "channel": "email",
            "agent": {"external_id": "ag-journey", "name": "Rosa Diaz", "team": "Email Team"},
            "started_at": "2026-09-03T10:00:00+00:00",
            "messages": [
                {"speaker": "customer", "text": text},
                {"speaker": "agent", "text": "Thanks, I am on it."},
            ],
        }
    )


def test_manager_uploads_previews_and_commits_a_file(
    page: Any, app: Flask, make: Factory, db: Any, tmp_path: Path
) -> None:
    app.config["QA_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    manager = make.user(Role.MANAGER, email="manager@example.org")
    content = "\n".join(
        [
            conversation("hd-1", "My invoice is wrong, write to me at pat@example.com"),
            conversation("hd-2", "The <b>app</b> crashes on start"),
        ]
    )
    log_in(page, manager.email)

    page.get_by_role("button", name="Manage", exact=True).click()
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Conversation file").set_input_files(
        {"name": "helpdesk.jsonl", "mimeType": "application/x-ndjson", "buffer": content.encode()}
    )
    page.get_by_role("button", name="Preview import").click()

    expect(page.locator("h1")).to_contain_text("Preview: helpdesk.jsonl")
    expect(page.get_by_test_id("count-read")).to_have_text("2")
    expect(page.get_by_test_id("count-create")).to_have_text("2")
    expect(page.get_by_test_id("new-agents")).to_contain_text("ag-journey")
    expect(page.get_by_test_id("preview-rows")).to_contain_text("The <b>app</b> crashes on start")
    expect(page.get_by_test_id("preview-rows")).to_contain_text("write to me at [EMAIL]")
    expect(page.get_by_test_id("redactions")).to_contain_text("Email addresses")
    assert db.scalars(select(Conversation)).first() is None, "the preview wrote nothing"

    page.get_by_role("button", name="Commit import").click()

    expect(page.get_by_role("alert")).to_contain_text(
        "helpdesk.jsonl imported: 2 conversations read, 2 created"
    )
    db.expire_all()
    assert sorted(db.scalars(select(Conversation.external_id))) == ["hd-1", "hd-2"]
    run = db.scalars(select(ConversationImport)).one()
    assert (run.via, run.user_id, run.filename) == ("web", manager.id, "helpdesk.jsonl")

    page.goto("/conversations/import/history")
    expect(page.get_by_test_id("imports-table")).to_contain_text("helpdesk.jsonl")
    expect(page.get_by_test_id("imports-table")).to_contain_text(manager.name)


def test_a_large_upload_is_imported_by_a_job_whose_progress_the_page_follows(
    page: Any, app: Flask, make: Factory, db: Any, tmp_path: Path
) -> None:
    from qa_app.jobs.queue import queue_for
    from qa_app.jobs.worker import running_worker

    app.config.update(
        QA_UPLOAD_FOLDER=str(tmp_path / "uploads"),
        QA_IMPORT_BACKGROUND_BYTES=1,  # every file counts as large here
        QA_JOBS_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        QA_JOBS_HEARTBEAT_SECONDS=0.2,
    )
    manager = make.user(Role.MANAGER, email="manager@example.org")
    content = "\n".join(conversation(f"bg-{n}", f"Order {n} never arrived") for n in range(30))
    log_in(page, manager.email)
    page.get_by_role("button", name="Manage", exact=True).click()
    page.get_by_role("link", name="Import", exact=True).click()
    page.get_by_label("Conversation file").set_input_files(
        {"name": "backlog.jsonl", "mimeType": "application/x-ndjson", "buffer": content.encode()}
    )
    page.get_by_role("button", name="Preview import").click()
    page.get_by_role("button", name="Commit import").click()

    # The job page: queued until a worker takes it, nothing imported yet.
    expect(page.locator("h1")).to_contain_text("Import conversations")
    expect(page.get_by_role("alert").first).to_contain_text("backlog.jsonl is being imported")
    expect(page.get_by_test_id("job-progress")).to_have_attribute("data-state", "queued")
    assert db.scalars(select(Conversation)).first() is None

    with running_worker(app, workers=1, poll_seconds=0.05, initial_delay=0.01):
        # htmx polls the progress and reloads the page once the job is done.
        expect(page.get_by_test_id("job-progress")).to_have_attribute(
            "data-state", "done", timeout=20_000
        )
    expect(page.get_by_test_id("job-result")).to_contain_text("30 created")
    db.expire_all()
    assert len(db.scalars(select(Conversation.id)).all()) == 30
    queue_for(app).huey.storage.flush_all()
