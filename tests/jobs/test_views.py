"""The Jobs pages, the progress partial and GET /api/v1/jobs/<id>, for each role."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.db import utcnow
from qa_app.jobs.models import Job, JobState
from qa_app.jobs.queue import Queue
from qa_app.org.roles import Role
from tests.api.openapi_checks import check_answer, load_document, response_schema
from tests.conftest import Factory, bearer, login

ROLES = [role for role in Role]
MANAGERS = {Role.ADMIN, Role.MANAGER}


def add_job(db: Session, by: User | None, **fields: Any) -> Job:
    values: dict[str, Any] = {
        "kind": "import_conversations",
        "started_by_id": by.id if by else None,
        "parameters": {"_upload": "secret-token", "filename": "october.jsonl"},
        "state": JobState.DONE,
        "attempts": 1,
        "result": {"created": 12, "summary": "12 conversations read"},
        "finished_at": utcnow(),
    }
    job = Job(**(values | fields))
    db.add(job)
    db.commit()
    return job


@pytest.fixture
def starter(make: Factory) -> User:
    return make.user(Role.QA_SPECIALIST, email="starter@example.org")


@pytest.mark.parametrize("role", ROLES)
def test_jobs_list_is_for_administrators_and_managers(
    client: FlaskClient, db: Session, make: Factory, starter: User, role: Role
) -> None:
    job = add_job(db, starter)
    login(client, make.user(role))
    response = client.get("/jobs")
    assert response.status_code == (200 if role in MANAGERS else 403)
    if role in MANAGERS:
        html = response.get_data(as_text=True)
        assert f'href="/jobs/{job.id}"' in html
        assert "Import conversations" in html
        assert starter.name in html
        assert "100%" in html


@pytest.mark.parametrize("role", ROLES)
def test_job_page_is_for_managers_and_the_starter_only(
    client: FlaskClient, db: Session, make: Factory, starter: User, role: Role
) -> None:
    job = add_job(db, starter)
    login(client, make.user(role))
    expected = 200 if role in MANAGERS else 404
    assert client.get(f"/jobs/{job.id}").status_code == expected
    assert client.get(f"/jobs/{job.id}/progress").status_code == expected


def test_the_starter_sees_their_own_job(client: FlaskClient, db: Session, starter: User) -> None:
    job = add_job(db, starter)
    login(client, starter)
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "12 conversations read" in html
    assert "october.jsonl" in html
    assert "secret-token" not in html  # private parameters stay private
    assert client.get("/jobs").status_code == 403


def test_empty_list_says_what_will_appear(client: FlaskClient, make: Factory) -> None:
    login(client, make.user(Role.MANAGER))
    html = client.get("/jobs").get_data(as_text=True)
    assert "No jobs yet. They appear here when someone imports a file" in html


def test_list_filters_by_state_and_refuses_unknown_states(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    done = add_job(db, None)
    failed = add_job(db, None, state=JobState.FAILED, error="boom")
    login(client, make.user(Role.ADMIN))
    html = client.get("/jobs?state=failed").get_data(as_text=True)
    assert f'data-job-id="{failed.id}"' in html
    assert f'data-job-id="{done.id}"' not in html
    assert "scheduled" in html  # no starter: the schedule started it
    assert client.get("/jobs?state=failed&kind=run_sampling").status_code == 200
    assert "No jobs match these filters." in client.get("/jobs?kind=run_sampling").get_data(
        as_text=True
    )
    assert client.get("/jobs?state=exploded").status_code == 400


def test_a_running_job_page_polls_and_reloads_without_javascript(
    client: FlaskClient, db: Session, make: Factory, sqlite_queue: Queue
) -> None:
    job = add_job(
        db, None, state=JobState.RUNNING, result=None, finished_at=None, progress_done=1,
        progress_total=4, progress_note="from the table",
    )  # fmt: skip
    login(client, make.user(Role.MANAGER))
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f'hx-get="/jobs/{job.id}/progress"' in html
    assert 'hx-trigger="every 2s"' in html
    assert re.search(r'<noscript><meta http-equiv="refresh" content="\d+"></noscript>', html)
    assert 'value="25"' in html
    assert "from the table" in html
    # The queue's live figures are fresher than the table's (SQLite's lock may hold those).
    sqlite_queue.put_live(job.id, {"done": 3, "total": 4, "note": "live figures"})
    partial = client.get(f"/jobs/{job.id}/progress", headers={"HX-Request": "true"})
    fragment = partial.get_data(as_text=True)
    assert "<html" not in fragment
    assert 'value="75"' in fragment
    assert "live figures" in fragment
    assert "HX-Refresh" not in partial.headers
    assert "hx-get" in fragment


def test_a_finished_job_stops_polling_and_the_last_poll_reloads_the_page(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    job = add_job(db, None, state=JobState.FAILED, error="Nothing was imported: 2 problems")
    login(client, make.user(Role.MANAGER))
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "hx-get" not in html
    assert "http-equiv" not in html
    assert "Nothing was imported: 2 problems" in html
    partial = client.get(f"/jobs/{job.id}/progress", headers={"HX-Request": "true"})
    assert partial.headers["HX-Refresh"] == "true"
    assert "HX-Refresh" not in client.get(f"/jobs/{job.id}/progress").headers


def test_navigation_shows_jobs_to_managers_only(client: FlaskClient, make: Factory) -> None:
    login(client, make.user(Role.MANAGER))
    assert 'href="/jobs"' in client.get("/").get_data(as_text=True)
    client.post("/logout")
    login(client, make.user(Role.QA_SPECIALIST))
    assert 'href="/jobs"' not in client.get("/").get_data(as_text=True)


# The API ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def document(shared_app: Flask) -> dict[str, Any]:
    return load_document(shared_app)


@pytest.mark.parametrize("role", [*ROLES, "starter"])
def test_api_job_for_the_starter_administrators_and_managers(
    app: Flask,
    db: Session,
    make: Factory,
    starter: User,
    role: Role | str,
    document: dict[str, Any],
) -> None:
    job = add_job(db, starter)
    user = starter if role == "starter" else make.user(Role(role))
    response = app.test_client().get(f"/api/v1/jobs/{job.id}", headers=bearer(db, user))
    visible = role == "starter" or role in MANAGERS
    assert response.status_code == (200 if visible else 404)
    status = response.status_code
    check_answer(
        document, response_schema(document, "/jobs/{job_id}", "get", status), response.json
    )
    if visible:
        answer = response.get_json()
        assert answer["state"] == "done"
        assert answer["result"]["created"] == 12
        assert answer["started_by"] == {"id": starter.id, "name": starter.name}
        assert answer["parameters"] == {"filename": "october.jsonl"}
        assert answer["progress"]["percent"] == 100


def test_api_job_needs_a_token(app: Flask, db: Session, starter: User) -> None:
    job = add_job(db, starter)
    assert app.test_client().get(f"/api/v1/jobs/{job.id}").status_code == 401
