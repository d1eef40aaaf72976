"""Migrations: upgrade to head, no drift from the models, downgrade to base; both databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect, text

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def migration_url(base_database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the suite's: a file, or a fresh PostgreSQL schema."""
    database_url = base_database_url
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    schema = f"migration_{uuid.uuid4().hex[:8]}"
    admin = create_engine(database_url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in database_url else "?"
    yield f"{database_url}{separator}options=-csearch_path%3D{schema}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def test_upgrade_check_downgrade(migration_url: str) -> None:
    config = _config(migration_url)
    command.upgrade(config, "head")
    engine = create_engine(migration_url)
    tables = set(inspect(engine).get_table_names())
    assert {"partner", "team", "agent", "user_account"} <= tables
    command.check(config)  # raises if the models and the migrations disagree
    command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    engine.dispose()
