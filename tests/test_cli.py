"""Command-line entry points: seed-demo, create-user."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from qa_app.auth.models import User
from qa_app.org.models import Agent, Partner, Team
from qa_app.org.roles import Role


def _counts(db: Any) -> tuple[int, int, int, int]:
    return tuple(  # type: ignore[return-value]
        db.scalar(select(func.count()).select_from(model)) for model in (Partner, Team, Agent, User)
    )


def test_seed_demo_builds_the_demo_organisation_once(runner: Any, db: Any) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@demo.qa-app.org" in result.output
    assert "northwind.qa@demo.qa-app.org (Northwind BPO)" in result.output
    assert "demo-password" in result.output
    # One login per role is listed; the calibration demo's second raters exist but are not.
    assert _counts(db) == (2, 4, 26, 11)
    assert "qa2@" not in result.output
    teams = dict(db.execute(select(Team.name, Team.partner_id)).all())
    assert teams["Tier 1 Chat"] is None
    assert teams["Tier 2 Specialists"] is None
    northwind = db.scalars(select(Partner).where(Partner.name == "Northwind BPO")).one()
    assert teams["Northwind Overflow"] == northwind.id
    roles = set(db.scalars(select(User.role)))
    assert roles == set(Role)

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert _counts(db) == (2, 4, 26, 11)


def test_seed_demo_if_empty_skips_a_used_database(runner: Any, db: Any) -> None:
    runner.invoke(
        args=["create-user", "--email", "first@example.org", "--name", "First"],
        input="first admin password\nfirst admin password\n",
    )
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert "already has users" in result.output
    assert _counts(db) == (0, 0, 0, 1)


def test_create_user_reports_errors(runner: Any) -> None:
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "p@example.org",
            "--name",
            "P",
            "--role",
            "partner_qa",
            "--partner",
            "Nobody BPO",
        ],
        input="long enough password\nlong enough password\n",
    )
    assert result.exit_code != 0
    assert "No partner named 'Nobody BPO'" in result.output
