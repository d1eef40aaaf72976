"""Configuration: safe defaults, then instance/config.py, then the environment, then overrides."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

ENV_VARS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "QA_ENV",
    "QA_REDACT_PII",
    "QA_PASSWORD_HASH",
    "QA_UPLOAD_FOLDER",
    "QA_IMPORT_BACKGROUND_BYTES",
    "QA_API_MAX_INFLATED_BYTES",
    "QA_API_MAX_LINE_BYTES",
    "QA_API_MAX_JSON_BYTES",
    "API_RATE_LIMIT",
    "API_RATE_LIMIT_PER_ADDRESS",
    "LOGIN_RATE_LIMIT",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_ENABLED",
    "QA_JOBS_URL",
    "QA_JOBS_NAME",
    "QA_JOBS_IMMEDIATE",
    "QA_JOBS_HEARTBEAT_SECONDS",
    "QA_JOBS_STALE_SECONDS",
    "QA_JOBS_MAX_ATTEMPTS",
    "QA_JOBS_RETRY_SECONDS",
    "QA_JOBS_SAMPLING_CRON",
    "QA_JOBS_CALIBRATION_CRON",
)


class DefaultConfig:
    """Defaults that are safe for production; development relaxes only what it must."""

    QA_ENV = "development"
    MAX_CONTENT_LENGTH = 256 * 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    WTF_CSRF_TIME_LIMIT = None  # tied to the session, which already expires after 8 h
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)
    QA_REDACT_PII = True
    QA_PASSWORD_HASH = "argon2id"  # "cheap" makes tests fast; never use it in production
    ITEMS_PER_PAGE = 25
    # Request rate limits (qa_app/ratelimit.py); "redis://127.0.0.1:6379" shares the counters
    # between several worker processes, memory keeps them per process.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    API_RATE_LIMIT = "600 per minute"  # per token
    API_RATE_LIMIT_PER_ADDRESS = "1200 per minute"  # per client address, whatever the token
    LOGIN_RATE_LIMIT = "60 per minute"  # login form posts per client address
    QA_IMPORT_BACKGROUND_BYTES = 5 * 1024 * 1024  # web uploads this large are imported by a job
    # Background jobs (qa_app/jobs/); QA_JOBS_URL defaults to a SQLite file in the instance folder.
    QA_JOBS_NAME = "qa_app"  # the queue's name: installations sharing one Redis need their own
    QA_JOBS_IMMEDIATE = False  # true runs a job inside the request that starts it (tests only)
    QA_JOBS_HEARTBEAT_SECONDS = 10  # a running job's sign of life
    QA_JOBS_STALE_SECONDS = 300  # a job silent this long whose worker is gone is taken back
    QA_JOBS_MAX_ATTEMPTS = 5  # attempts of a job that meets transient (database) errors
    QA_JOBS_RETRY_SECONDS = 10  # first backoff; doubled each attempt, with jitter, up to 10 min
    QA_JOBS_SAMPLING_CRON = ""  # e.g. "0 6 * * 1": run every active sampling plan (UTC)
    QA_JOBS_CALIBRATION_CRON = ""  # e.g. "0 6 1 * *": schedule the month's calibration (UTC)


def _env_flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Fill app.config in order: defaults, instance/config.py, environment, overrides."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    for name in ENV_VARS:
        if name in os.environ:
            app.config[name] = os.environ[name]
    for flag in ("QA_REDACT_PII", "RATELIMIT_ENABLED", "QA_JOBS_IMMEDIATE"):
        if isinstance(app.config.get(flag), str):
            app.config[flag] = _env_flag(app.config[flag])
    app.config.update(overrides or {})

    app.config.setdefault("DATABASE_URL", f"sqlite:///{Path(app.instance_path) / 'qa_app.sqlite3'}")
    app.config.setdefault("QA_JOBS_URL", f"sqlite:///{Path(app.instance_path) / 'jobs.sqlite3'}")
    production = app.config["QA_ENV"] == "production"
    if production:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    if not app.config.get("SECRET_KEY"):
        if production:
            raise RuntimeError("SECRET_KEY must be set when QA_ENV=production")
        app.config["SECRET_KEY"] = _instance_secret_key(Path(app.instance_path))


def _instance_secret_key(instance_path: Path) -> str:
    """Generate a development key once and keep it, so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
