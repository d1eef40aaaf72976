"""Command-line entry points: database upgrades, demo data, first admin."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from qa_app.db import get_session
from qa_app.org.roles import Role


def migrations_folder() -> Path:
    """The Alembic migrations: ``migrations/`` beside the package in a source checkout, or
    ``qa_app/migrations`` inside an installed wheel (pyproject.toml ships them there)."""
    package = Path(__file__).resolve().parent
    installed = package / "migrations"
    return installed if installed.is_dir() else package.parent / "migrations"


def alembic_config() -> object:
    """Alembic's config pointing at the project's migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_folder()))
    config.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"])
    return config


db_group = AppGroup("db", help="Manage the database schema.")


@db_group.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Upgrade the database to a revision (default: the latest)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)  # type: ignore[arg-type]
    click.echo(f"Database upgraded to {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Downgrade the database to a revision ('base' empties it)."""
    from alembic import command

    command.downgrade(alembic_config(), revision)  # type: ignore[arg-type]
    click.echo(f"Database downgraded to {revision}.")


@click.command("seed-demo")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has users.")
@click.option(
    "--data",
    "data_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Conversations file to build the demo from (default: the copy shipped in the package).",
)
def seed_demo(if_empty: bool, data_path: Path | None) -> None:
    """Build the demo organisation, its reviews and calibration, and one login per role; safe to
    run again."""
    from qa_app.auth.models import User
    from qa_app.demo.seed import (
        DEMO_DATA,
        DEMO_PASSWORD,
        seed_conversations,
        seed_organisation,
        seed_users,
    )

    session = get_session()
    if if_empty and session.scalar(select(func.count(User.id))):
        click.echo("The database already has users; demo data not loaded.")
        return
    agents = seed_organisation(session, data_path or DEMO_DATA)
    logins = seed_users(session, cheap_hash=current_app.config["QA_PASSWORD_HASH"] == "cheap")
    session.commit()
    click.echo(f"Demo organisation ready ({agents} new agents).")
    report = seed_conversations(
        session, data_path or DEMO_DATA, redact=current_app.config.get("QA_REDACT_PII", True)
    )
    click.echo(f"Demo conversations: {report.summary()}.")
    from qa_app.demo.scorecard import seed_default_scorecard

    scorecard = seed_default_scorecard(session)
    session.commit()
    click.echo(f"Demo scorecard: {scorecard.name}.")
    from qa_app.demo.calibration import seed_demo_calibration

    for calibration in seed_demo_calibration(session):
        click.echo(f"Demo calibration: {calibration.title} ({calibration.status.value}).")
    session.commit()
    from qa_app.demo.reviews import seed_demo_reviews

    # After the calibration: its sessions sample conversations that no review has taken yet.
    click.echo(f"Demo reviews: {seed_demo_reviews(session).summary()}.")
    session.commit()
    click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
    for login in logins:
        scope = f" ({login.partner})" if login.partner else ""
        click.echo(f"  {login.role.label:<15} {login.email}{scope}")


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), default=Role.ADMIN.value)
@click.option("--partner", "partner_name", help="Partner name, for partner roles.")
@click.password_option()
def create_user_command(
    email: str, name: str, role: str, partner_name: str | None, password: str
) -> None:
    """Create a user account, for example the first admin of a new installation."""
    from qa_app.auth.services import AccountError, create_user
    from qa_app.org.models import Partner

    session = get_session()
    partner_id = None
    if partner_name:
        partner = session.scalars(select(Partner).where(Partner.name == partner_name)).first()
        if partner is None:
            raise click.ClickException(f"No partner named {partner_name!r}.")
        partner_id = partner.id
    try:
        user = create_user(
            session,
            email=email,
            name=name,
            password=password,
            role=Role(role),
            partner_id=partner_id,
        )
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    session.commit()
    click.echo(f"Created {user.role.label} {user.email}.")


def init_app(app: Flask) -> None:
    from qa_app.calibration.cli import schedule_calibration
    from qa_app.conversations.cli import import_conversations
    from qa_app.sampling.cli import run_sampling

    for command in (
        db_group,
        seed_demo,
        create_user_command,
        import_conversations,
        run_sampling,
        schedule_calibration,
    ):
        app.cli.add_command(command)
