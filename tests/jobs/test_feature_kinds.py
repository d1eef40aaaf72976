"""The features' job kinds: importing an upload (through a real worker), sampling, calibration."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from huey.consumer import Consumer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.importer import ImportOptions
from qa_app.conversations.jobs import IMPORT_KIND, start_import, upload_store
from qa_app.conversations.models import Conversation, ConversationImport
from qa_app.conversations.uploads import Upload
from qa_app.jobs import services
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.queue import Queue
from qa_app.org.roles import Role
from tests.conftest import Factory, login
from tests.conversations.web_upload import commit, jsonl, line, token_in, upload
from tests.jobs.conftest import finished, wait_for, wait_until_queue_empty
from tests.sampling.world import sampling_world

StartWorker = Callable[..., Consumer]


@pytest.fixture
def manager(make: Factory, app: Flask, tmp_path: Path) -> User:
    app.config["QA_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return make.user(Role.MANAGER, email="manager@example.org")


def stored(app: Flask, user: User, content: bytes, filename: str = "october.jsonl") -> Upload:
    with app.app_context():
        return upload_store().save(io.BytesIO(content), user_id=user.id, filename=filename)


def import_job(app: Flask, db: Session, upload: Upload, user: User, **options: Any) -> Job:
    with app.app_context():
        job = start_import(db, upload, ImportOptions(**options), by=user)
    db.commit()
    return job


def test_import_job_imports_the_upload_with_progress(
    app: Flask, db: Session, manager: User, backend: Queue, start_worker: StartWorker
) -> None:
    upload = stored(app, manager, jsonl(*(line(f"c-{n}") for n in range(3))))
    job = import_job(app, db, upload, manager)
    assert job.kind == IMPORT_KIND
    assert job.parameters["filename"] == "october.jsonl"
    start_worker()
    done = wait_for(db, job.id, finished)
    assert done.state == JobState.DONE, done.error
    assert done.result is not None
    assert (done.result["created"], done.result["committed"]) == (3, True)
    assert done.result["summary"].startswith("3 conversations read, 3 created")
    assert (done.progress_done, done.progress_total) == (upload.size, upload.size)
    assert db.scalar(select(func.count()).select_from(Conversation)) == 3
    run = db.scalars(select(ConversationImport)).one()
    assert (run.user_id, run.via, run.filename, run.id) == (
        manager.id,
        "web",
        "october.jsonl",
        done.result["import_id"],
    )
    with app.app_context():
        found = upload_store().find(upload.token, user_id=manager.id)
    assert found is not None
    assert found.imported
    # Delivered again (or queued again after a crash): nothing is imported twice.
    backend.dispatch(job.id)
    wait_until_queue_empty(backend)
    assert wait_for(db, job.id, finished).attempts == 1
    assert db.scalar(select(func.count()).select_from(ConversationImport)) == 1


def test_import_job_with_a_bad_conversation_fails_and_imports_nothing(
    app: Flask, db: Session, manager: User, sqlite_queue: Queue, start_worker: StartWorker
) -> None:
    upload = stored(app, manager, jsonl(line("good"), line("bad", channel="carrier pigeon")))
    job = import_job(app, db, upload, manager)
    start_worker()
    failed = wait_for(db, job.id, finished)
    assert failed.state == JobState.FAILED
    assert failed.attempts == 1
    assert failed.error is not None
    assert failed.error.startswith("Nothing was imported: 1 problems found")
    assert failed.result is not None
    assert failed.result["error_count"] == 1
    assert failed.result["errors"][0]["field"] == "channel"
    assert db.scalar(select(func.count()).select_from(Conversation)) == 0
    with app.app_context():
        kept = upload_store().find(upload.token, user_id=manager.id)
    assert kept is not None
    assert not kept.imported  # the file is still there to preview and fix


def test_import_job_without_its_upload_fails_with_a_message(
    app: Flask, db: Session, immediate: None, manager: User
) -> None:
    upload = stored(app, manager, jsonl(line("c-1")))
    with app.app_context():
        upload_store().discard(upload)
    job = import_job(app, db, upload, manager)
    db.refresh(job)
    assert job.state == JobState.FAILED
    assert job.error is not None
    assert "no longer there" in job.error


def test_sampling_job_runs_the_active_plans_for_the_period(
    app: Flask, db: Session, immediate: None
) -> None:
    plan_id = sampling_world(db)["plan_id"]
    with app.app_context():
        job = services.enqueue(db, "run_sampling", {"period": "2026-W40"}, by=None)
    db.commit()
    db.refresh(job)
    assert job.result is not None
    assert job.result["period"] == "2026-W40"
    assert [plan["plan_id"] for plan in job.result["plans"]] == [plan_id]
    assert job.state == JobState.DONE, job.error


def test_calibration_job_without_a_published_scorecard_fails_with_the_reason(
    app: Flask, db: Session, immediate: None
) -> None:
    with app.app_context():
        job = services.enqueue(db, "schedule_calibration", {"month": "2026-12"}, by=None)
    db.commit()
    db.refresh(job)
    assert job.state == JobState.FAILED
    assert job.error is not None
    assert "No active scorecard has a published version" in job.error


def test_a_large_web_upload_is_imported_by_a_job_with_its_progress_page(
    app: Flask,
    client: Any,
    db: Session,
    manager: User,
    backend: Queue,
    start_worker: StartWorker,
) -> None:
    app.config["QA_IMPORT_BACKGROUND_BYTES"] = 100  # every file here counts as large
    login(client, manager)
    preview = upload(client, jsonl(*(line(f"w-{n}") for n in range(4))), "big.jsonl")
    token = token_in(preview)
    answer = commit(client, token)
    assert answer.status_code == 302
    job = db.scalars(select(Job)).one()
    assert answer.headers["Location"] == f"/jobs/{job.id}"
    assert job.kind == IMPORT_KIND
    assert db.scalar(select(func.count()).select_from(Conversation)) == 0  # not in the request
    page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "big.jsonl is being imported in the background." in page
    assert 'data-testid="job-progress"' in page
    # Pressing Import again finds the same job instead of queueing a second import.
    assert commit(client, token).headers["Location"] == f"/jobs/{job.id}"
    assert db.scalar(select(func.count()).select_from(Job)) == 1
    start_worker()
    done = wait_for(db, job.id, finished)
    assert done.state == JobState.DONE, done.error
    assert db.scalar(select(func.count()).select_from(Conversation)) == 4
    assert "4 created" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_a_small_web_upload_is_still_imported_within_the_request(
    client: Any, db: Session, manager: User, sqlite_queue: Queue
) -> None:
    login(client, manager)
    token = token_in(upload(client, jsonl(line("s-1")), "small.jsonl"))
    assert commit(client, token).status_code == 302
    assert db.scalar(select(func.count()).select_from(Conversation)) == 1
    assert db.scalar(select(func.count()).select_from(Job)) == 0
