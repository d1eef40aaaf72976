"""Sessions and tokens that really end: log-out, password changes and resets, token expiry; a
lock-out that reveals no account; one partner-creation rule for every way of importing; a
``next`` with line breaks."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from qa_app.auth.models import ApiToken
from qa_app.db import utcnow
from qa_app.org.models import Partner
from qa_app.org.roles import Role
from tests.conftest import PASSWORD, Factory, bearer, login

JSONL = "application/x-ndjson"


def cookie(client: FlaskClient, name: str) -> str | None:
    found = client.get_cookie(name)
    return found.value if found else None


def test_a_session_cookie_replayed_after_log_out_is_logged_out(app: Flask, make: Factory) -> None:
    user = make.user(Role.MANAGER)
    client = app.test_client()
    login(client, user)
    stolen = cookie(client, "session")
    assert client.get("/").status_code == 200
    client.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", stolen or "")
    answer = replay.get("/")
    assert answer.status_code == 302
    assert "/login" in answer.headers["Location"]


def test_a_remember_me_cookie_replayed_after_log_out_is_logged_out(
    app: Flask, make: Factory
) -> None:
    user = make.user(Role.MANAGER)
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    remembered = cookie(client, "remember_token")
    assert remembered
    replay = app.test_client()
    replay.set_cookie("remember_token", remembered)
    assert replay.get("/").status_code == 200  # the cookie works while logged in
    client.post("/logout")
    again = app.test_client()
    again.set_cookie("remember_token", remembered)
    assert again.get("/").status_code == 302


def test_changing_ones_password_revokes_ones_api_tokens(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    user = make.user(Role.QA_SPECIALIST)
    headers = bearer(db, user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    login(client, user)
    changed = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new password",
            "confirm": "a brand new password",
        },
        follow_redirects=True,
    )
    assert "API tokens are revoked" in changed.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_an_admin_password_reset_revokes_the_users_api_tokens(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    admin, user = make.user(Role.ADMIN), make.user(Role.QA_SPECIALIST)
    headers = bearer(db, user)
    login(client, admin)
    page = client.post(f"/admin/users/{user.id}/reset-password")
    assert "API tokens are revoked" in page.get_data(as_text=True)
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    live = db.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
    )
    assert live == 0


def test_new_tokens_expire_after_90_days_by_default_and_expired_tokens_answer_401(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    user = make.user(Role.QA_SPECIALIST)
    login(client, user)
    page = client.post("/account/tokens", data={"name": "Nightly export", "lifetime": "90"})
    secret = page.get_data(as_text=True).split('id="new-token-secret" type="text" readonly value="')
    token_secret = secret[1].split('"', 1)[0]
    token = db.scalars(select(ApiToken).where(ApiToken.name == "Nightly export")).one()
    assert token.expires_at is not None
    assert abs(token.expires_at - (utcnow() + timedelta(days=90))) < timedelta(minutes=1)
    expiry = token.expires_at.strftime("%Y-%m-%d")
    assert expiry in client.get("/account/tokens").get_data(as_text=True)

    headers = {"Authorization": f"Bearer {token_secret}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert "expired" in client.get("/account/tokens").get_data(as_text=True)


def test_a_token_can_be_made_to_last_until_revoked(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    login(client, make.user(Role.QA_SPECIALIST))
    form = client.get("/account/tokens").get_data(as_text=True)
    for choice in ("30 days", "90 days", "365 days", "never (until revoked)"):
        assert choice in form
    client.post("/account/tokens", data={"name": "Forever", "lifetime": "never"})
    token = db.scalars(select(ApiToken).where(ApiToken.name == "Forever")).one()
    assert token.expires_at is None
    refused = client.post("/account/tokens", data={"name": "Odd", "lifetime": "7"})
    assert refused.status_code == 200
    assert "Not a valid choice" in refused.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(ApiToken)) == 1


def test_a_locked_account_answers_like_an_unknown_one(
    app: Flask, client: FlaskClient, make: Factory
) -> None:
    user = make.user(Role.QA_SPECIALIST)
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"email": user.email, "password": "wrong password!"})
    locked = client.post("/login", data={"email": user.email, "password": PASSWORD})
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": PASSWORD})
    assert locked.status_code == unknown.status_code == 401

    def text(answer: Any) -> str:
        page = answer.get_data(as_text=True).replace(user.email, "")
        page = page.replace("nobody@example.org", "")
        return re.sub(r"[\w-]{20,}\.[\w.-]+", "<csrf token>", page)  # signed per answer

    assert text(locked) == text(unknown)


def conversation(external_id: str, partner: str) -> bytes:
    record = {
        "external_id": external_id,
        "source": "partner-rule",
        "channel": "chat",
        "agent": {
            "external_id": f"ag-{external_id}",
            "name": "New Agent",
            "team": f"Team {partner}",
            "partner": partner,
        },
        "started_at": "2026-10-01T09:00:00+00:00",
        "messages": [{"speaker": "agent", "text": "Hi", "sent_at": "2026-10-01T09:00:00+00:00"}],
    }
    return (json.dumps(record) + "\n").encode()


def partners(db: Session) -> list[str]:
    db.expire_all()
    return list(db.scalars(select(Partner.name).order_by(Partner.name)))


def test_a_manager_cannot_create_partners_through_the_api_an_admin_can(
    client: FlaskClient, db: Session, make: Factory
) -> None:
    make.partner("Known BPO")
    manager = bearer(db, make.user(Role.MANAGER))
    refused = client.post(
        "/api/v1/conversations",
        data=conversation("p-1", "Brand New BPO"),
        headers=manager,
        content_type=JSONL,
    )
    assert refused.status_code == 422
    [error] = refused.get_json()["errors"]
    assert "only an administrator can add partners" in error["reason"]
    assert partners(db) == ["Known BPO"]
    known = client.post(
        "/api/v1/conversations",
        data=conversation("p-2", "Known BPO"),
        headers=manager,
        content_type=JSONL,
    )
    assert known.status_code == 201
    admin = bearer(db, make.user(Role.ADMIN))
    created = client.post(
        "/api/v1/conversations",
        data=conversation("p-3", "Brand New BPO"),
        headers=admin,
        content_type=JSONL,
    )
    assert created.status_code == 201
    assert partners(db) == ["Brand New BPO", "Known BPO"]


def test_a_manager_cannot_create_partners_through_the_web_upload(
    app: Flask, client: FlaskClient, db: Session, make: Factory, tmp_path: Any
) -> None:
    app.config["QA_UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    login(client, make.user(Role.MANAGER))
    preview = client.post(
        "/conversations/import/preview",
        data={"file": (io.BytesIO(conversation("w-1", "Brand New BPO")), "one.jsonl")},
        content_type="multipart/form-data",
    )
    assert "only an administrator can add partners" in preview.get_data(as_text=True)
    assert partners(db) == []


def test_a_next_with_line_breaks_is_ignored_not_a_server_error(
    client: FlaskClient, make: Factory
) -> None:
    user = make.user(Role.MANAGER)
    for target in ("/reviews\r\nSet-Cookie: x=1", "/x\nLocation: https://evil.example"):
        answer = client.post(
            "/login",
            query_string={"next": target},
            data={"email": user.email, "password": PASSWORD},
        )
        assert answer.status_code == 302
        assert answer.headers["Location"] == "/"
        assert "\n" not in answer.headers["Location"]
        client.post("/logout")
