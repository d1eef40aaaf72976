"""The application shell: configuration, headers, error pages, navigation, offline assets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from qa_app import create_app
from qa_app.org.roles import Role
from tests.conftest import Factory, login

PACKAGE = Path(__file__).resolve().parents[1] / "qa_app"


def test_production_refuses_to_start_without_secret_key(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"QA_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})


def test_production_sets_secure_cookies(tmp_path: Path) -> None:
    app = create_app(
        {
            "QA_ENV": "production",
            "SECRET_KEY": "s" * 32,
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        }
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_secret_key_is_generated_once(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    import qa_app.config as config

    first = config._instance_secret_key(tmp_path)
    assert len(first) == 64
    assert config._instance_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_database_url_comes_from_environment(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/from-env.db")
    app = create_app({"SECRET_KEY": "x"})
    assert app.config["DATABASE_URL"].endswith("from-env.db")


def test_security_headers_on_every_page(client: Any) -> None:
    response = client.get("/login")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_not_found_page_leaks_nothing(client: Any, make: Factory) -> None:
    login(client, make.user(Role.MANAGER))
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    api = client.get("/api/v1/nothing-here")
    assert api.status_code == 404
    assert api.get_json()["error"]["status"] == 404


def test_server_error_page_shows_no_traceback(fresh_app: Flask, make: Factory) -> None:
    app = fresh_app

    @app.get("/boom-for-test")
    def boom() -> str:
        raise RuntimeError("secret internal detail")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    response = client.get("/boom-for-test")
    page = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in page
    assert "secret internal detail" not in page
    assert "Traceback" not in page


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.ADMIN, ["Teams", "Agents", "Partners", "Users"], []),
        (Role.MANAGER, ["Teams", "Agents", "Partners"], ["Users"]),
        (Role.QA_SPECIALIST, ["Teams", "Agents"], ["Partners", "Users"]),
        (Role.PARTNER_VIEWER, ["Teams", "Agents"], ["Partners", "Users"]),
        (Role.PARTNER_QA, ["Teams", "Agents"], ["Partners", "Users"]),
        (Role.AGENT, ["My profile"], ["Teams", "Partners", "Users"]),
    ],
)
def test_navigation_depends_on_role(
    client: Any, make: Factory, role: Role, visible: list[str], hidden: list[str]
) -> None:
    login(client, make.user(role))
    page = client.get("/").get_data(as_text=True)
    nav = page.split('id="main-nav"')[1].split("</nav>")[0]
    links = re.findall(r'class="(?:nav-link|dropdown-item)[^"]*"[^>]*>([^<]+)</a>', nav)
    for label in visible:
        assert label in links
    for label in hidden:
        assert label not in links


def test_templates_load_no_remote_assets() -> None:
    for template in (PACKAGE / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), template


def test_vendored_assets_are_served(client: Any) -> None:
    for path in (
        "/static/vendor/bootstrap-5.3.9/bootstrap.min.css",
        "/static/vendor/htmx-2.0.11/htmx.min.js",
        "/static/vendor/chartjs-4.6.1/chart.umd.min.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()


def test_a_uniqueness_race_no_service_caught_answers_409_and_writes_nothing(
    fresh_app: Flask, make: Factory
) -> None:
    from sqlalchemy import func, select

    from qa_app.db import get_session
    from qa_app.org.models import Partner

    make.partner("Taken")

    @fresh_app.post("/race-for-test")
    @fresh_app.post("/api/v1/race-for-test")
    def race() -> str:
        session = get_session()
        session.add(Partner(name="Written first"))
        session.add(Partner(name="Taken"))  # as if another request had just saved it
        session.flush()
        return "saved"

    fresh_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = fresh_app.test_client()
    page = client.post("/race-for-test")
    assert page.status_code == 409
    assert "Someone else saved the same thing" in page.get_data(as_text=True)
    answer = client.post("/api/v1/race-for-test")
    assert answer.status_code == 409
    assert answer.get_json()["error"]["title"] == "Changed at the same time"
    with fresh_app.app_context():
        names = get_session().scalars(select(Partner.name)).all()
        assert names == ["Taken"]
        assert get_session().scalar(select(func.count()).select_from(Partner)) == 1
