"""`flask import-conversations`: the importer from a terminal or a cron job."""

from __future__ import annotations

import io
import os
import sys
import zlib
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from qa_app.conversations.formats import FORMATS, open_text
from qa_app.conversations.importer import (
    UNKNOWN_AGENT_RULES,
    ImportFailed,
    ImportOptions,
    ImportReport,
    import_file,
)
from qa_app.conversations.limits import current_limits
from qa_app.db import get_session
from qa_app.org.services import organisation_settings

ERRORS_SHOWN = 50


class _ProgressReader(io.RawIOBase):
    """Reads a file and moves a progress bar by the (compressed) bytes consumed."""

    def __init__(self, path: Path, bar: Any) -> None:
        self._file = open(path, "rb")  # noqa: SIM115 - closed with this reader
        self._bar = bar

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._file.readinto(buffer)
        self._bar.update(count)
        return count

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()
        super().close()


def is_empty(path: Path) -> bool:
    """Whether the file (decompressed) holds nothing but white space; an unreadable file is
    not empty here, the importer says what is wrong with it."""
    try:
        with open_text(path, current_limits()) as stream:
            while chunk := stream.read(1024 * 1024):
                if not chunk.isspace():
                    return False
    except (OSError, EOFError, ValueError, zlib.error):  # corrupt gzip, not UTF-8, too large
        return False
    return True


def print_report(report: ImportReport) -> None:
    click.echo(report.summary() + ".")
    if report.redactions:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.redactions.items()))
        click.echo(f"Personal data redacted: {kinds}.")
    for label, names in (
        ("partners", report.new_partners),
        ("teams", report.new_teams),
        ("agents", report.new_agents),
    ):
        if names:
            click.echo(f"New {label}: {', '.join(names[:20])}{' ...' if len(names) > 20 else ''}")
    for error in report.errors[:ERRORS_SHOWN]:
        click.echo(f"  {error}", err=True)
    if report.error_count > ERRORS_SHOWN:
        click.echo(f"  ... and {report.error_count - ERRORS_SHOWN} more problems.", err=True)


@click.command("import-conversations")
@with_appcontext
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), help="Default: detected.")
@click.option("--source", help="Source system name; overrides the one in the file.")
@click.option("--partial", is_flag=True, help="Import the good conversations, report the rest.")
@click.option(
    "--unknown-agents",
    type=click.Choice(UNKNOWN_AGENT_RULES),
    default="create",
    show_default=True,
    help="Create agents (and their teams) the app does not know, or reject their conversations.",
)
@click.option("--dry-run", is_flag=True, help="Check and count everything, write nothing.")
def import_conversations(
    path: Path,
    fmt: str | None,
    source: str | None,
    partial: bool,
    unknown_agents: str,
    dry_run: bool,
) -> None:
    """Import conversations from PATH (JSON Lines, CSV, Zendesk or Intercom; gzip accepted)."""
    if is_empty(path):
        raise click.ClickException(f"{path.name}: the file is empty; nothing was imported.")
    session = get_session()
    default_redact = current_app.config.get("QA_REDACT_PII", True)
    options = ImportOptions(
        format=fmt,
        source=source,
        partial=partial,
        unknown_agents=unknown_agents,
        dry_run=dry_run,
        redact=organisation_settings(session, default_redact=default_redact).redact_pii,
    )
    show_bar = sys.stderr.isatty()
    with click.progressbar(
        length=os.path.getsize(path), label="Importing", file=sys.stderr, hidden=not show_bar
    ) as bar:
        try:
            report = import_file(
                session,
                io.BufferedReader(_ProgressReader(path, bar)),
                options,
                via="cli",
                filename=path.name,
            )
        except ImportFailed as error:
            raise click.ClickException(f"{path.name}: {error}; nothing was imported.") from error
    print_report(report)
    if dry_run:
        click.echo("Dry run: nothing was written.")
    if not report.ok and not partial:
        raise click.ClickException(
            f"{report.error_count} problems found; nothing was imported. "
            "Fix them, or use --partial to import the good conversations."
        )
    if not report.ok:
        raise click.ClickException(f"{report.error_count} conversations were not imported.")
