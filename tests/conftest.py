"""Fixtures: the app on SQLite by default, on PostgreSQL when DATABASE_URL points to one.

The schema and the app are created once per run (per xdist worker): building an app compiles
every URL rule, 80 ms that 2,000 tests would pay each. Every test starts with empty tables and
the app's config as it was: rows are deleted after each test in one round trip (a TRUNCATE of
every table costs 110 ms on PostgreSQL, the DELETEs 5 ms), which also works for the browser
tests whose server runs in another thread.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from qa_app import create_app
from qa_app.auth.models import User
from qa_app.auth.services import create_user
from qa_app.auth.tokens import create_token
from qa_app.conversations.models import Conversation, ConversationTag, Message
from qa_app.db import Model, make_engine
from qa_app.models import import_all_models
from qa_app.org.models import Agent, Partner, Team
from qa_app.org.roles import Role

# CI shares two cores between both xdist workers, a browser and the databases: a property test
# must not fail because drawing its inputs was slow there, nor because one example was.
settings.register_profile(
    "shared-cores", suppress_health_check=[HealthCheck.too_slow], deadline=None
)
settings.load_profile("shared-cores")

PASSWORD = "correct horse battery"


def _reset_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        if engine.dialect.name != "postgresql":
            Model.metadata.drop_all(connection)
        Model.metadata.create_all(connection)


def _cleanup_statement(engine: Engine) -> str:
    """DELETE every table, children first, and restart PostgreSQL's id sequences (ids start
    at 1 in every test, as SQLite gives them after a DELETE)."""
    tables = list(reversed(Model.metadata.sorted_tables))
    statements = [f'DELETE FROM "{table.name}"' for table in tables]
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            sequences = connection.execute(
                text(
                    "SELECT sequence_name FROM information_schema.sequences"
                    " WHERE sequence_schema = current_schema()"
                )
            ).scalars()
            statements += [f'ALTER SEQUENCE "{name}" RESTART' for name in sequences]
    return "; ".join(statements)


def _empty_tables(engine: Engine, statement: str) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(statement)
        else:
            # sqlite3 runs one statement per execute.
            for single in statement.split("; "):
                connection.exec_driver_sql(single)


@pytest.fixture(scope="session")
def base_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """DATABASE_URL from the environment, or a fresh SQLite file."""
    return os.environ.get("DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    )


@pytest.fixture(scope="session")
def database_url(base_database_url: str) -> Iterator[str]:
    """The suite's database. On PostgreSQL, a schema of this run's own (via search_path), so
    that several runs can share one server and database without disturbing each other."""
    if not base_database_url.startswith("postgresql"):
        yield base_database_url
        return
    schema = f"test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base_database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base_database_url else "?"
    yield f"{base_database_url}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    import_all_models()
    engine = make_engine(database_url)
    _reset_schema(engine)
    yield engine
    engine.dispose()


TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "WTF_CSRF_ENABLED": False,
    "QA_PASSWORD_HASH": "cheap",
}


@pytest.fixture(scope="session")
def shared_app(engine: Engine, database_url: str) -> Iterator[Flask]:
    app = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    yield app
    app.extensions["qa_db_engine"].dispose()


@pytest.fixture(scope="session")
def cleanup_statement(engine: Engine) -> str:
    return _cleanup_statement(engine)


@pytest.fixture
def app(shared_app: Flask, engine: Engine, cleanup_statement: str) -> Iterator[Flask]:
    """The run's app, handed back after the test with its config, rate-limit counters and
    tables as they were."""
    config = dict(shared_app.config)
    yield shared_app
    shared_app.config.clear()
    shared_app.config.update(config)
    for limiter in shared_app.extensions.get("limiter", ()):
        limiter.reset()
    _empty_tables(engine, cleanup_statement)


@pytest.fixture
def fresh_app(app: Flask, database_url: str) -> Iterator[Flask]:
    """An app of the test's own, for tests that add routes (the shared one has served)."""
    own = create_app({**TEST_CONFIG, "DATABASE_URL": database_url})
    yield own
    own.extensions["qa_db_engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session for arranging and checking data, separate from the request's session."""
    session: Session = app.extensions["qa_db_sessionmaker"]()
    yield session
    session.close()


@dataclass
class Factory:
    """Creates committed rows with sensible defaults; returns the objects."""

    session: Session
    counter: int = 0

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def partner(self, name: str | None = None) -> Partner:
        partner = Partner(name=name or f"Partner {self._next()}")
        self.session.add(partner)
        self.session.commit()
        return partner

    def team(self, name: str | None = None, partner: Partner | None = None) -> Team:
        team = Team(name=name or f"Team {self._next()}", partner_id=partner.id if partner else None)
        self.session.add(team)
        self.session.commit()
        return team

    def agent(self, team: Team | None = None, name: str | None = None, **fields: Any) -> Agent:
        number = self._next()
        team = team or self.team()
        fields.setdefault("external_id", f"ag-t{number}")
        agent = Agent(name=name or f"Agent {number}", team_id=team.id, **fields)
        self.session.add(agent)
        self.session.commit()
        return agent

    def user(
        self,
        role: Role = Role.ADMIN,
        *,
        partner: Partner | None = None,
        agent: Agent | None = None,
        email: str | None = None,
    ) -> User:
        if role in {Role.PARTNER_VIEWER, Role.PARTNER_QA} and partner is None:
            partner = self.partner()
        if role == Role.AGENT and agent is None:
            agent = self.agent()
        user = create_user(
            self.session,
            email=email or f"{role.value}{self._next()}@example.org",
            name=f"{role.label} {self.counter}",
            password=PASSWORD,
            role=role,
            partner_id=partner.id if partner else None,
            agent_id=agent.id if agent else None,
            cheap_hash=True,
        )
        self.session.commit()
        return user

    def conversation(
        self,
        agent: Agent | None = None,
        *,
        messages: Sequence[tuple[str, str]] = (
            ("customer", "Hello, my order has not arrived."),
            ("agent", "Sorry to hear that, let me check the tracking for you."),
        ),
        tags: Sequence[str] = (),
        started_at: datetime | None = None,
        **fields: Any,
    ) -> Conversation:
        """A conversation of ``agent`` (and its team) with the given (speaker, text) turns."""
        number = self._next()
        started_at = started_at or datetime(2026, 10, 1, 9, 0, tzinfo=UTC) + timedelta(hours=number)
        values: dict[str, Any] = {
            "source": "test",
            "external_id": f"c-{number}",
            "channel": "chat",
            "agent_id": agent.id if agent else None,
            "team_id": agent.team_id if agent else None,
            "started_at": started_at,
            "ended_at": started_at + timedelta(minutes=12),
            "handle_time_seconds": 720,
            "content_hash": f"hash-{number}",
            "message_count": len(messages),
        }
        values.update(fields)
        conversation = Conversation(**values)
        self.session.add(conversation)
        self.session.flush()
        for position, (speaker, body) in enumerate(messages):
            self.session.add(
                Message(
                    conversation_id=conversation.id,
                    position=position,
                    speaker=speaker,
                    text=body,
                    sent_at=started_at + timedelta(minutes=position),
                )
            )
        for tag in tags:
            self.session.add(ConversationTag(conversation_id=conversation.id, tag=tag))
        self.session.commit()
        return conversation


@pytest.fixture
def make(db: Session) -> Factory:
    return Factory(db)


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> Any:
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def _login(user: User) -> FlaskClient:
        login(client, user)
        return client

    return _login


def bearer(db: Session, user: User, **options: Any) -> dict[str, str]:
    """Headers of a new API token of ``user`` (committed, so a request can use it)."""
    _, secret = create_token(db, user, "test", **options)
    db.commit()
    return {"Authorization": f"Bearer {secret}"}
