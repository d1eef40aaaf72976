"""Logging in and out, lock-out, session invalidation, safe redirects, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from qa_app import create_app
from qa_app.auth.models import User
from qa_app.org.roles import Role
from tests.conftest import PASSWORD, Factory, login


def test_login_with_valid_credentials_reaches_dashboard(client: Any, make: Factory) -> None:
    user = make.user(Role.MANAGER, email="Morgan@Example.org")
    response = client.post(
        "/login",
        data={"email": "  morgan@example.ORG ", "password": PASSWORD},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert f"Welcome, {user.name}." in response.get_data(as_text=True)


def test_wrong_password_rerenders_form_with_generic_message(client: Any, make: Factory) -> None:
    user = make.user(Role.MANAGER)
    response = client.post("/login", data={"email": user.email, "password": "wrong password!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert "Invalid email or password." in page
    assert 'name="email"' in page
    unknown = client.post("/login", data={"email": "nobody@example.org", "password": "whatever123"})
    assert "Invalid email or password." in unknown.get_data(as_text=True)


def test_account_locks_after_repeated_failures(client: Any, make: Factory, db: Any) -> None:
    user = make.user(Role.QA_SPECIALIST)
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "wrong password!"})
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 401
    # The same answer as for an unknown account: the lock-out tells nobody the account exists.
    assert "Invalid email or password." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).locked_until is not None


def test_deactivated_user_cannot_log_in_and_is_logged_out(client: Any, make: Factory) -> None:
    admin = make.user(Role.ADMIN)
    target = make.user(Role.QA_SPECIALIST)
    other_client = client.application.test_client()
    login(other_client, target)
    assert other_client.get("/").status_code == 200

    login(client, admin)
    assert client.post(f"/admin/users/{target.id}/deactivate").status_code == 302
    assert other_client.get("/").status_code == 302  # the session ended
    refused = other_client.post("/login", data={"email": target.email, "password": PASSWORD})
    assert refused.status_code == 401


def test_password_change_ends_other_sessions(app: Flask, make: Factory) -> None:
    user = make.user(Role.MANAGER)
    laptop, phone = app.test_client(), app.test_client()
    login(laptop, user)
    login(phone, user)
    response = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a much better passphrase",
            "confirm": "a much better passphrase",
        },
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200  # the session that changed it stays
    assert phone.get("/").status_code == 302
    login(phone, user, "a much better passphrase")


def test_password_change_errors_rerender_the_form(client: Any, make: Factory) -> None:
    login(client, make.user(Role.MANAGER))
    response = client.post(
        "/account/password",
        data={"current_password": "not mine at all", "new_password": "short", "confirm": "other"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Field must be between 10 and 1024 characters long." in page
    assert "Passwords do not match." in page
    assert 'aria-describedby="None"' not in page


def test_logout_ends_the_session(client: Any, make: Factory) -> None:
    login(client, make.user(Role.MANAGER))
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/org/teams", "/org/teams"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_follows_only_local_next(
    client: Any, make: Factory, next_url: str, expected: str
) -> None:
    user = make.user(Role.MANAGER)
    response = client.post(
        "/login", query_string={"next": next_url}, data={"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == expected


def test_forms_require_a_csrf_token(app: Flask, make: Factory) -> None:
    user = make.user(Role.ADMIN)
    protected = create_app({**app.config, "WTF_CSRF_ENABLED": True})
    client = protected.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    protected.extensions["qa_db_engine"].dispose()


def test_session_cookie_is_http_only_and_lax(client: Any, make: Factory) -> None:
    response = login(client, make.user(Role.MANAGER))
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
