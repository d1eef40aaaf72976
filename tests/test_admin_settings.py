"""The organisation's settings: its name, and whether imports redact personal data."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from qa_app.org.models import OrganisationSettings
from qa_app.org.roles import Role
from tests.conftest import Factory, login

URL = "/admin/settings"


@pytest.fixture
def admin_client(client: FlaskClient, make: Factory) -> FlaskClient:
    login(client, make.user(Role.ADMIN))
    return client


def saved(db: Session) -> OrganisationSettings:
    db.expire_all()
    return db.scalars(select(OrganisationSettings)).one()


def redaction_ticked(html: str) -> bool:
    checkbox = re.search(r'<input[^>]*id="redact_pii"[^>]*>', html)
    assert checkbox, "no redaction checkbox"
    return re.search(r"\bchecked\b", checkbox.group()) is not None


def form(**fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "Acme Support"}
    data.update({key: value for key, value in fields.items() if value is not None})
    return data


def test_settings_show_redaction_on_by_default(admin_client: FlaskClient) -> None:
    html = admin_client.get(URL).get_data(as_text=True)
    assert "Redact personal data (emails, phone numbers, card numbers, IBANs)" in html
    assert redaction_ticked(html)
    assert 'data-testid="redaction-off"' not in html


def test_installation_default_decides_the_first_value(
    app: Flask, admin_client: FlaskClient
) -> None:
    app.config["QA_REDACT_PII"] = False
    html = admin_client.get(URL).get_data(as_text=True)
    assert 'data-testid="redaction-off"' in html
    assert not redaction_ticked(html)


def test_admin_renames_the_organisation(admin_client: FlaskClient, db: Session) -> None:
    response = admin_client.post(URL, data=form(name="  Acme Support  ", redact_pii="y"))
    assert response.status_code == 302
    settings = saved(db)
    assert (settings.name, settings.redact_pii) == ("Acme Support", True)


def test_turning_redaction_off_needs_confirmation(admin_client: FlaskClient, db: Session) -> None:
    response = admin_client.post(URL, data=form())

    assert response.status_code == 200
    assert "Confirm that personal data will be stored unredacted" in response.get_data(as_text=True)
    assert db.scalars(select(OrganisationSettings)).first() is None, "nothing was saved"


def test_turning_redaction_off_with_confirmation_warns(
    admin_client: FlaskClient, db: Session
) -> None:
    response = admin_client.post(URL, data=form(confirm_unredacted="y"), follow_redirects=True)

    html = response.get_data(as_text=True)
    assert "Imports no longer redact personal data." in html
    assert 'data-testid="redaction-off"' in html
    assert saved(db).redact_pii is False


def test_with_redaction_off_other_changes_need_no_confirmation(
    admin_client: FlaskClient, db: Session
) -> None:
    db.add(OrganisationSettings(name="Old name", redact_pii=False))
    db.commit()

    assert admin_client.post(URL, data=form(name="New name")).status_code == 302
    assert (saved(db).name, saved(db).redact_pii) == ("New name", False)


def test_turning_redaction_back_on_needs_no_confirmation(
    admin_client: FlaskClient, db: Session
) -> None:
    db.add(OrganisationSettings(name="Acme", redact_pii=False))
    db.commit()

    assert admin_client.post(URL, data=form(redact_pii="y")).status_code == 302
    assert saved(db).redact_pii is True


def test_organisation_name_is_required(admin_client: FlaskClient, db: Session) -> None:
    response = admin_client.post(URL, data=form(name="   ", redact_pii="y"))
    assert response.status_code == 200
    assert db.scalars(select(OrganisationSettings)).first() is None


@pytest.mark.parametrize("role", [Role.MANAGER, Role.QA_SPECIALIST])
def test_only_admins_change_settings(client: FlaskClient, make: Factory, role: Role) -> None:
    login(client, make.user(role))
    assert client.post(URL, data=form(confirm_unredacted="y")).status_code == 403
    assert 'href="/admin/settings"' not in client.get("/").get_data(as_text=True)


def test_settings_are_in_the_admin_navigation(admin_client: FlaskClient) -> None:
    assert 'href="/admin/settings"' in admin_client.get("/").get_data(as_text=True)
