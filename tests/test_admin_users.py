"""Admins manage user accounts; bad input re-renders the form and changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from qa_app.auth.models import User
from qa_app.org.roles import Role
from tests.conftest import Factory, login


def _count_users(db: Any) -> int:
    return db.scalar(select(func.count(User.id)))


def test_admin_creates_partner_user(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.ADMIN))
    partner = make.partner("Northwind BPO")
    response = client.post(
        "/admin/users/new",
        data={
            "email": "Viewer@Northwind.example.com",
            "name": "Nora Viewer",
            "role": "partner_viewer",
            "partner_id": partner.id,
            "agent_id": 0,
            "password": "long enough password",
        },
    )
    assert response.status_code == 302
    user = db.scalars(select(User).where(User.email == "viewer@northwind.example.com")).one()
    assert user.role == Role.PARTNER_VIEWER
    assert user.partner_id == partner.id
    assert user.password_hash.startswith("$argon2id$")


def test_partner_role_without_partner_is_rejected(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.ADMIN))
    before = _count_users(db)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "lost@example.org",
            "name": "Lost",
            "role": "partner_qa",
            "partner_id": 0,
            "agent_id": 0,
            "password": "long enough password",
        },
    )
    assert response.status_code == 200
    assert "A partner user must belong to a partner." in response.get_data(as_text=True)
    assert _count_users(db) == before


def test_in_house_role_with_partner_is_rejected(client: Any, make: Factory, db: Any) -> None:
    login(client, make.user(Role.ADMIN))
    partner = make.partner()
    response = client.post(
        "/admin/users/new",
        data={
            "email": "mixed@example.org",
            "name": "Mixed",
            "role": "manager",
            "partner_id": partner.id,
            "agent_id": 0,
            "password": "long enough password",
        },
    )
    assert "Only partner roles belong to a partner." in response.get_data(as_text=True)
    assert db.scalar(select(User).where(User.email == "mixed@example.org")) is None


def test_duplicate_email_and_bad_fields_are_reported(client: Any, make: Factory) -> None:
    admin = make.user(Role.ADMIN)
    login(client, admin)
    response = client.post(
        "/admin/users/new",
        data={
            "email": admin.email.upper(),
            "name": "Copy",
            "role": "manager",
            "partner_id": 0,
            "agent_id": 0,
            "password": "long enough password",
        },
    )
    assert "A user with that email already exists." in response.get_data(as_text=True)
    response = client.post(
        "/admin/users/new",
        data={
            "email": "not-an-email",
            "name": "",
            "role": "manager",
            "partner_id": 0,
            "agent_id": 0,
            "password": "short",
        },
    )
    page = response.get_data(as_text=True)
    assert "Invalid email address." in page
    assert "This field is required." in page
    assert 'aria-invalid="true"' in page


def test_agent_account_needs_an_agent_profile(client: Any, make: Factory) -> None:
    login(client, make.user(Role.ADMIN))
    agent = make.agent()
    data = {
        "email": "agent@example.org",
        "name": "A",
        "role": "agent",
        "partner_id": 0,
        "agent_id": 0,
        "password": "long enough password",
    }
    response = client.post("/admin/users/new", data=data)
    assert "An agent account must be linked to an agent profile." in response.get_data(as_text=True)
    assert client.post("/admin/users/new", data={**data, "agent_id": agent.id}).status_code == 302


def test_admin_edits_role_and_scope_change_ends_sessions(app: Any, make: Factory, db: Any) -> None:
    admin_client, user_client = app.test_client(), app.test_client()
    login(admin_client, make.user(Role.ADMIN))
    target = make.user(Role.QA_SPECIALIST)
    login(user_client, target)
    partner = make.partner()
    response = admin_client.post(
        f"/admin/users/{target.id}/edit",
        data={
            "email": target.email,
            "name": "Renamed",
            "role": "partner_qa",
            "partner_id": partner.id,
            "agent_id": 0,
        },
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, target.id).role == Role.PARTNER_QA
    assert user_client.get("/").status_code == 302  # must log in again under the new scope


def test_admin_cannot_demote_or_deactivate_self(client: Any, make: Factory, db: Any) -> None:
    admin = make.user(Role.ADMIN)
    login(client, admin)
    response = client.post(
        f"/admin/users/{admin.id}/edit",
        data={
            "email": admin.email,
            "name": admin.name,
            "role": "manager",
            "partner_id": 0,
            "agent_id": 0,
        },
    )
    assert "You cannot take the admin role from yourself." in response.get_data(as_text=True)
    client.post(f"/admin/users/{admin.id}/deactivate")
    db.expire_all()
    assert db.get(User, admin.id).is_active


def test_reset_password_shows_a_new_password_once(app: Any, make: Factory) -> None:
    admin_client = app.test_client()
    login(admin_client, make.user(Role.ADMIN))
    target = make.user(Role.MANAGER)
    response = admin_client.post(f"/admin/users/{target.id}/reset-password")
    page = response.get_data(as_text=True)
    temporary = page.split('data-testid="temporary-password">')[1].split("<")[0]
    assert len(temporary) >= 12
    login(app.test_client(), target, temporary)


def test_user_list_filters_by_role(client: Any, make: Factory) -> None:
    login(client, make.user(Role.ADMIN, email="boss@example.org"))
    make.user(Role.PARTNER_QA, email="rater@example.org")
    page = client.get("/admin/users?role=partner_qa").get_data(as_text=True)
    assert "rater@example.org" in page
    assert "boss@example.org" not in page
