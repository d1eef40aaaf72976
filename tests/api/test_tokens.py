"""Personal API tokens: created and shown once, stored hashed, revoked, and refused when dead."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app import create_app
from qa_app.auth.models import ApiToken, User
from qa_app.auth.tokens import create_token
from qa_app.org.roles import Role
from tests.conftest import Factory, login

SECRET = re.compile(r"qa_[A-Za-z0-9_-]{43}")


def new_token(db: Session, user: User, name: str = "script") -> tuple[ApiToken, str]:
    token, secret = create_token(db, user, name)
    db.commit()
    return token, secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_created_token_is_shown_once_and_stored_only_as_a_hash(
    client: Any, make: Factory, db: Session
) -> None:
    user = make.user(Role.QA_SPECIALIST)
    login(client, user)
    response = client.post("/account/tokens", data={"name": "  Nightly sync  "})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "shown only once" in page
    secrets = SECRET.findall(page)
    assert len(secrets) == 1
    secret = secrets[0]

    token = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    assert token.name == "Nightly sync"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.prefix == secret[:10]
    stored = [getattr(token, column.key) for column in ApiToken.__table__.columns]
    assert all(secret not in str(value) for value in stored)

    again = client.get("/account/tokens").get_data(as_text=True)
    assert secret not in again
    assert "Nightly sync" in again
    assert token.prefix in again
    assert client.get("/api/v1/me", headers=bearer(secret)).json["email"] == user.email


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_token_needs_a_name_of_at_most_100_characters(
    client: Any, make: Factory, db: Session, name: str
) -> None:
    login(client, make.user(Role.MANAGER))
    response = client.post("/account/tokens", data={"name": name})
    assert response.status_code == 200
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert not SECRET.search(response.get_data(as_text=True))
    assert db.scalars(select(ApiToken)).all() == []


@pytest.mark.parametrize("role", list(Role))
def test_every_role_manages_its_own_tokens(
    client: Any, make: Factory, db: Session, role: Role
) -> None:
    user = make.user(role)
    login(client, user)
    assert client.get("/").status_code == 200
    assert 'href="/account/tokens"' in client.get("/").get_data(as_text=True)
    secret = SECRET.findall(client.post("/account/tokens", data={"name": "mine"}).get_data(True))
    assert len(secret) == 1
    token = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).one()
    response = client.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 302
    db.expire_all()
    assert db.get(ApiToken, token.id).revoked_at is not None
    assert client.get("/api/v1/me", headers=bearer(secret[0])).status_code == 401


def test_token_list_shows_only_ones_own_tokens(client: Any, make: Factory, db: Session) -> None:
    user, other = make.user(Role.MANAGER), make.user(Role.MANAGER)
    new_token(db, user, "my token")
    new_token(db, other, "their token")
    login(client, user)
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "my token" in page
    assert "their token" not in page


def test_user_cannot_revoke_another_users_token(client: Any, make: Factory, db: Session) -> None:
    admin, other = make.user(Role.ADMIN), make.user(Role.AGENT)
    token, secret = new_token(db, other)
    login(client, admin)
    assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 404
    db.expire_all()
    assert db.get(ApiToken, token.id).revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_revoked_token_is_listed_as_revoked_and_loses_its_revoke_button(
    client: Any, make: Factory, db: Session
) -> None:
    user = make.user(Role.MANAGER)
    token, _ = new_token(db, user, "old script")
    login(client, user)
    before = client.get("/account/tokens").get_data(as_text=True)
    assert f"/account/tokens/{token.id}/revoke" in before
    assert "New token" in before
    client.post(f"/account/tokens/{token.id}/revoke")
    page = client.get("/account/tokens").get_data(as_text=True)
    assert "revoked " in page
    assert f"/account/tokens/{token.id}/revoke" not in page


def test_admin_lists_and_revokes_another_users_tokens(
    client: Any, make: Factory, db: Session
) -> None:
    admin, other = make.user(Role.ADMIN), make.user(Role.PARTNER_QA)
    token, secret = new_token(db, other, "vendor export")
    login(client, admin)
    page = client.get(f"/admin/users/{other.id}/tokens").get_data(as_text=True)
    assert "vendor export" in page
    assert other.email in page
    assert "New token" not in page  # admins revoke others' tokens, never create them
    response = client.post(f"/admin/users/{other.id}/tokens/{token.id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/admin/users/{other.id}/tokens")
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_admin_revoke_checks_that_the_token_belongs_to_the_user(
    client: Any, make: Factory, db: Session
) -> None:
    admin, owner, bystander = make.user(Role.ADMIN), make.user(), make.user()
    token, _ = new_token(db, owner)
    login(client, admin)
    assert client.post(f"/admin/users/{bystander.id}/tokens/{token.id}/revoke").status_code == 404
    db.expire_all()
    assert db.get(ApiToken, token.id).revoked_at is None


def test_deactivating_a_user_stops_their_tokens(client: Any, make: Factory, db: Session) -> None:
    admin, user = make.user(Role.ADMIN), make.user(Role.MANAGER)
    _, secret = new_token(db, user)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    login(client, admin)
    assert client.post(f"/admin/users/{user.id}/deactivate").status_code == 302
    client.post("/logout")
    response = client.get("/api/v1/me", headers=bearer(secret))
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]
    login(client, admin)
    assert client.post(f"/admin/users/{user.id}/reactivate").status_code == 302
    # Reactivation does not bring old tokens back: they were revoked for good.
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_api_use_records_when_the_token_was_last_used(
    client: Any, make: Factory, db: Session
) -> None:
    token, secret = new_token(db, make.user(Role.AGENT))
    assert token.last_used_at is None
    client.get("/api/v1/me", headers=bearer(secret))
    db.expire_all()
    assert db.get(ApiToken, token.id).last_used_at is not None


def test_token_form_is_protected_by_csrf_while_the_api_is_exempt(
    engine: Any, database_url: str, make: Factory, db: Session
) -> None:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "QA_PASSWORD_HASH": "cheap",
        }
    )
    user = make.user(Role.MANAGER)
    _, secret = new_token(db, user)
    try:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert csrf_token is not None
        logged_in = client.post(
            "/login",
            data={
                "email": user.email,
                "password": "correct horse battery",
                "csrf_token": csrf_token[1],
            },
        )
        assert logged_in.status_code == 302
        assert client.post("/account/tokens", data={"name": "no csrf"}).status_code == 400
        response = client.post(
            "/api/v1/conversations",
            headers=bearer(secret),
            data="[]",
            content_type="application/json",
        )
        assert response.status_code == 200
        assert response.json["total"] == 0
    finally:
        app.extensions["qa_db_engine"].dispose()
