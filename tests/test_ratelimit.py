"""Rate limits: the API per token and per address, login posts per address; 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from qa_app import create_app
from qa_app.auth.tokens import create_token
from qa_app.org.roles import Role
from tests.conftest import Factory


@pytest.fixture
def limited(app: Flask, database_url: str) -> Iterator[Flask]:
    """The test app's database, with tight limits (its own counters)."""
    limited_app = create_app(
        {
            **{key: app.config[key] for key in ("TESTING", "SECRET_KEY", "QA_PASSWORD_HASH")},
            "DATABASE_URL": database_url,
            "WTF_CSRF_ENABLED": False,
            "API_RATE_LIMIT": "3 per minute",
            "API_RATE_LIMIT_PER_ADDRESS": "5 per minute",
            "LOGIN_RATE_LIMIT": "2 per minute",
        }
    )
    yield limited_app
    limited_app.extensions["qa_db_engine"].dispose()


def bearer(db: Session, make: Factory) -> dict[str, str]:
    _, secret = create_token(db, make.user(Role.QA_SPECIALIST), "test")
    db.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_is_limited_per_token_then_per_address(
    limited: Flask, db: Session, make: Factory
) -> None:
    client = limited.test_client()
    first, second = bearer(db, make), bearer(db, make)
    # One count over the whole API, not one per endpoint.
    paths = ["/api/v1/me", "/api/v1/scorecards", "/api/v1/reviews", "/api/v1/me"]
    answers = [client.get(path, headers=first) for path in paths]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "3"
    assert answers[2].headers["X-RateLimit-Remaining"] == "0"
    refused: Any = answers[3].get_json()
    assert refused["error"]["status"] == 429
    assert refused["error"]["title"] == "Too many requests"
    assert int(answers[3].headers["Retry-After"]) > 0
    # Another token has a count of its own (3), but the address has one too (5), whatever the
    # token: it runs out before the second token's own does.
    codes = [client.get("/api/v1/me", headers=second).status_code for _ in range(3)]
    assert codes[0] == 200
    assert codes[-1] == 429


def test_guessing_tokens_is_limited_by_address(limited: Flask) -> None:
    client = limited.test_client()
    codes = [
        client.get("/api/v1/me", headers={"Authorization": f"Bearer guess-{n}"}).status_code
        for n in range(6)
    ]
    assert codes == [401] * 5 + [429]


def test_login_posts_are_limited_per_address(limited: Flask, make: Factory) -> None:
    user = make.user(Role.QA_SPECIALIST)
    client = limited.test_client()
    wrong = {"email": user.email, "password": "not the password"}
    assert client.post("/login", data=wrong).status_code == 401
    assert client.post("/login", data=wrong).status_code == 401
    refused = client.post("/login", data=wrong)
    assert refused.status_code == 429
    assert "Too many requests" in refused.get_data(as_text=True)
    assert client.get("/login").status_code == 200  # reading the form is not limited


def test_limits_can_be_turned_off(
    app: Flask, database_url: str, db: Session, make: Factory
) -> None:
    unlimited = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": database_url,
            "QA_PASSWORD_HASH": "cheap",
            "API_RATE_LIMIT": "1 per minute",
            "RATELIMIT_ENABLED": False,
        }
    )
    client = unlimited.test_client()
    headers = bearer(db, make)
    assert [client.get("/api/v1/me", headers=headers).status_code for _ in range(3)] == [200] * 3
    unlimited.extensions["qa_db_engine"].dispose()
