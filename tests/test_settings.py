"""Every setting the README documents, set the way the README says (an environment variable) to a
value other than its default: the app starts, log-in and the API still work, and the setting has
the effect the README promises.

The list of cases is checked against the README's table, so a newly documented setting without a
case here fails the suite.
"""

from __future__ import annotations

import gc
import io
import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app import create_app
from qa_app.auth.tokens import create_token
from qa_app.conversations.models import Message
from qa_app.jobs.queue import queue_for
from qa_app.org.roles import Role
from tests.conftest import PASSWORD, Factory

README = Path(__file__).resolve().parents[1] / "README.md"
JSONL = "application/x-ndjson"
REDIS_URL = "redis://127.0.0.1:6379/14"


def documented_settings() -> list[str]:
    """The variables of the README's configuration table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)


def record(external_id: str, text: str = "Hello, how can I help?") -> bytes:
    conversation = {
        "external_id": external_id,
        "source": "settings-test",
        "channel": "chat",
        "agent": {"external_id": "ag-set", "name": "Setting Agent", "team": "Settings"},
        "started_at": "2026-10-01T09:00:00+00:00",
        "messages": [
            {"speaker": "customer", "text": text, "sent_at": "2026-10-01T09:00:00+00:00"},
            {"speaker": "agent", "text": "Sure.", "sent_at": "2026-10-01T09:01:00+00:00"},
        ],
    }
    return (json.dumps(conversation) + "\n").encode()


class Started:
    """An app built from the environment, with an admin and their API token."""

    def __init__(self, app: Flask, db: Session, make: Factory) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.admin = make.user(Role.ADMIN)
        _, secret = create_token(db, self.admin, "settings")
        db.commit()
        self.bearer = {"Authorization": f"Bearer {secret}"}
        self.db = db

    def log_in(self) -> Any:
        return self.client.post("/login", data={"email": self.admin.email, "password": PASSWORD})

    def api_import(self, body: bytes) -> Any:
        return self.client.post(
            "/api/v1/conversations", data=body, headers=self.bearer, content_type=JSONL
        )


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.3).ping())
    except redis.RedisError:
        return False


# Each case: the environment to set, and what must then hold.


def check_database_url(started: Started, database_url: str) -> None:
    engine_url = started.app.extensions["qa_db_engine"].url
    assert engine_url.render_as_string(hide_password=False) == database_url


def check_secret_key(started: Started, _: str) -> None:
    assert started.app.secret_key == "a-secret-from-the-environment"


def check_production(started: Started, _: str) -> None:
    answer = started.log_in()
    assert answer.status_code == 302
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie


def check_no_redaction(started: Started, _: str) -> None:
    assert started.api_import(record("pii-1", "Mail me at jo@example.com")).status_code == 201
    texts = started.db.scalars(select(Message.text)).all()
    assert "Mail me at jo@example.com" in texts


def check_upload_folder(started: Started, _: str) -> None:
    started.log_in()
    answer = started.client.post(
        "/conversations/import/preview",
        data={"file": (io.BytesIO(record("up-1")), "one.jsonl")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 200
    folder = Path(started.app.config["QA_UPLOAD_FOLDER"])
    assert any(folder.iterdir())


def check_background_import(started: Started, _: str) -> None:
    started.log_in()
    preview = started.client.post(
        "/conversations/import/preview",
        data={"file": (io.BytesIO(record("bg-1")), "one.jsonl")},
        content_type="multipart/form-data",
    )
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True))
    assert token
    answer = started.client.post(
        "/conversations/import/commit",
        data={"token": token.group(1), "format": "", "source": "", "unknown_agents": "create"},
    )
    assert answer.headers["Location"].startswith("/jobs/")


def check_refused_413(started: Started, _: str) -> None:
    answer = started.api_import(record("big-1", "x" * 5000))
    assert answer.status_code == 413


def check_json_limited(started: Started, _: str) -> None:
    body = json.dumps([json.loads(record("big-2", "x" * 5000))]).encode()
    answer = started.client.post(
        "/api/v1/conversations", data=body, headers=started.bearer, content_type="application/json"
    )
    assert answer.status_code == 413
    assert started.api_import(record("small-2")).status_code == 201  # JSON Lines: not one document


def check_api_limited(started: Started, _: str) -> None:
    codes = [started.client.get("/api/v1/me", headers=started.bearer).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def check_login_limited(started: Started, _: str) -> None:
    wrong = {"email": started.admin.email, "password": "wrong password"}
    codes = [started.client.post("/login", data=wrong).status_code for _ in range(3)]
    assert codes == [401, 401, 429]


def check_limits_off(started: Started, _: str) -> None:
    wrong = {"email": started.admin.email, "password": "wrong password"}
    assert [started.client.post("/login", data=wrong).status_code for _ in range(3)] == [401] * 3
    api = [started.client.get("/api/v1/me", headers=started.bearer).status_code for _ in range(3)]
    assert api == [200] * 3


def check_jobs_url(started: Started, _: str) -> None:
    queue = queue_for(started.app)
    assert type(queue.huey).__name__ == "RedisHuey"
    queue.huey.storage.flush_all()


def check_jobs_name(started: Started, _: str) -> None:
    assert queue_for(started.app).huey.name == "another-installation"


def check_immediate(started: Started, _: str) -> None:
    assert queue_for(started.app).huey.immediate is True


def check_schedule(kind: str) -> Callable[[Started, str], None]:
    def check(started: Started, _: str) -> None:
        names = {task.name for task in queue_for(started.app).huey._registry.periodic_tasks}
        assert f"every_{kind}" in names

    return check


def check_job_setting(attribute: str, value: float) -> Callable[[Started, str], None]:
    def check(started: Started, _: str) -> None:
        assert getattr(queue_for(started.app).settings, attribute) == value

    return check


CASES: dict[str, tuple[dict[str, str], Callable[[Started, str], None]]] = {
    "DATABASE_URL": ({}, check_database_url),  # set to the test database below
    "SECRET_KEY": ({"SECRET_KEY": "a-secret-from-the-environment"}, check_secret_key),
    "QA_ENV": ({"QA_ENV": "production", "SECRET_KEY": "p" * 32}, check_production),
    "QA_REDACT_PII": ({"QA_REDACT_PII": "false"}, check_no_redaction),
    "QA_UPLOAD_FOLDER": ({"QA_UPLOAD_FOLDER": "{tmp}/elsewhere"}, check_upload_folder),
    "QA_IMPORT_BACKGROUND_BYTES": (
        {"QA_IMPORT_BACKGROUND_BYTES": "10"},
        check_background_import,
    ),
    "QA_API_MAX_INFLATED_BYTES": ({"QA_API_MAX_INFLATED_BYTES": "2000"}, check_refused_413),
    "QA_API_MAX_LINE_BYTES": ({"QA_API_MAX_LINE_BYTES": "2000"}, check_refused_413),
    "QA_API_MAX_JSON_BYTES": ({"QA_API_MAX_JSON_BYTES": "2000"}, check_json_limited),
    "API_RATE_LIMIT": ({"API_RATE_LIMIT": "2 per minute"}, check_api_limited),
    "API_RATE_LIMIT_PER_ADDRESS": ({"API_RATE_LIMIT_PER_ADDRESS": "2/minute"}, check_api_limited),
    "LOGIN_RATE_LIMIT": ({"LOGIN_RATE_LIMIT": "2 per minute"}, check_login_limited),
    "RATELIMIT_STORAGE_URI": (
        {"RATELIMIT_STORAGE_URI": REDIS_URL, "LOGIN_RATE_LIMIT": "2 per minute"},
        check_login_limited,
    ),
    "RATELIMIT_ENABLED": (
        {"RATELIMIT_ENABLED": "false", "LOGIN_RATE_LIMIT": "1 per minute"},
        check_limits_off,
    ),
    "QA_JOBS_URL": ({"QA_JOBS_URL": REDIS_URL}, check_jobs_url),
    "QA_JOBS_NAME": ({"QA_JOBS_NAME": "another-installation"}, check_jobs_name),
    "QA_JOBS_IMMEDIATE": ({"QA_JOBS_IMMEDIATE": "true"}, check_immediate),
    "QA_JOBS_SAMPLING_CRON": (
        {"QA_JOBS_SAMPLING_CRON": "0 6 * * 1"},
        check_schedule("run_sampling"),
    ),
    "QA_JOBS_CALIBRATION_CRON": (
        {"QA_JOBS_CALIBRATION_CRON": "0 6 1 * *"},
        check_schedule("schedule_calibration"),
    ),
    "QA_JOBS_HEARTBEAT_SECONDS": (
        {"QA_JOBS_HEARTBEAT_SECONDS": "3"},
        check_job_setting("heartbeat_seconds", 3),
    ),
    "QA_JOBS_STALE_SECONDS": (
        {"QA_JOBS_STALE_SECONDS": "60"},
        check_job_setting("stale_seconds", 60),
    ),
    "QA_JOBS_MAX_ATTEMPTS": ({"QA_JOBS_MAX_ATTEMPTS": "2"}, check_job_setting("max_attempts", 2)),
    "QA_JOBS_RETRY_SECONDS": (
        {"QA_JOBS_RETRY_SECONDS": "1.5"},
        check_job_setting("retry_seconds", 1.5),
    ),
}
NEEDS_REDIS = {"RATELIMIT_STORAGE_URI", "QA_JOBS_URL"}


def test_every_documented_setting_has_a_case() -> None:
    assert sorted(documented_settings()) == sorted(CASES)


@pytest.fixture
def started_with(
    app: Flask, database_url: str, db: Session, make: Factory, tmp_path: Path, monkeypatch: Any
) -> Iterator[Callable[[dict[str, str]], Started]]:
    built: list[Flask] = []

    def start(environment: dict[str, str]) -> Started:
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("SECRET_KEY", "test-secret-key")
        monkeypatch.setenv("QA_UPLOAD_FOLDER", str(tmp_path / "uploads"))
        monkeypatch.setenv("QA_JOBS_URL", f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
        for name, value in environment.items():
            monkeypatch.setenv(name, value.replace("{tmp}", str(tmp_path)))
        if "QA_JOBS_URL" in environment or "RATELIMIT_STORAGE_URI" in environment:
            monkeypatch.setenv("QA_JOBS_NAME", f"settings-{uuid.uuid4().hex[:8]}")
        started = create_app(
            {"TESTING": True, "WTF_CSRF_ENABLED": False, "QA_PASSWORD_HASH": "cheap"}
        )
        built.append(started)
        gc.collect()  # what is only weakly held is gone now, as it would be after a while
        for limiter in started.extensions.get("limiter", ()):
            limiter.reset()
        return Started(started, db, make)

    yield start
    for each in built:
        each.extensions["qa_db_engine"].dispose()


@pytest.mark.parametrize("setting", sorted(CASES))
def test_a_setting_at_a_value_other_than_its_default(
    setting: str, started_with: Callable[[dict[str, str]], Started], database_url: str
) -> None:
    if setting in NEEDS_REDIS and not _redis_up():
        pytest.skip(f"no Redis server at {REDIS_URL}")
    environment, check = CASES[setting]
    started = started_with(environment)
    # The app serves log-in, a page and the API whatever the setting.
    assert started.client.get("/login").status_code == 200
    check(started, database_url)
    if setting not in {"LOGIN_RATE_LIMIT", "RATELIMIT_STORAGE_URI", "QA_ENV"}:
        assert started.log_in().status_code == 302
        assert started.client.get("/").status_code == 200
    if setting not in {"API_RATE_LIMIT", "API_RATE_LIMIT_PER_ADDRESS"}:
        assert started.client.get("/api/v1/me", headers=started.bearer).status_code == 200
