"""What an import is asked to do (its options) and what it did (its report), for every way in."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from qa_app.conversations.formats import FORMATS
from qa_app.conversations.records import ConversationRecord, RecordError

UNKNOWN_AGENT_RULES = ("create", "reject")

UNASSIGNED_TEAM = "Unassigned"  # where a created agent goes when the file names no team

MAX_REPORTED_ERRORS = 1000  # every error is counted; the first thousand are kept to show

PREVIEW_SIZE = 5

BATCH_SIZE = 500


class ImportFailed(ValueError):
    """The input could not be read at all (unknown format, not UTF-8, ...); nothing was written."""


@dataclass(frozen=True)
class ImportOptions:
    format: str | None = None  # detected from the content and file name when None
    source: str | None = None  # overrides the source named in the file
    partial: bool = False  # import the good conversations and report the bad ones
    unknown_agents: str = "create"  # or "reject"
    dry_run: bool = False  # do everything, then roll back: an exact preview
    redact: bool = True
    # New partners only when the importer may add partners elsewhere too (administrators, and
    # the server's CLI): the same rule as the partner pages, whichever way the file comes in.
    create_partners: bool = True
    batch_size: int = BATCH_SIZE

    def __post_init__(self) -> None:
        if self.format is not None and self.format not in FORMATS:
            raise ValueError(f"unknown format {self.format!r}; choose one of {', '.join(FORMATS)}")
        if self.unknown_agents not in UNKNOWN_AGENT_RULES:
            raise ValueError(f"unknown_agents must be one of {', '.join(UNKNOWN_AGENT_RULES)}")


@dataclass
class ImportReport:
    """What an import did, or (dry run, or refused) would have done."""

    format: str
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_count: int = 0
    errors: list[RecordError] = field(default_factory=list)
    redactions: Counter[str] = field(default_factory=Counter)
    new_agents: list[str] = field(default_factory=list)
    new_teams: list[str] = field(default_factory=list)
    new_partners: list[str] = field(default_factory=list)
    preview: list[ConversationRecord] = field(default_factory=list)
    committed: bool = False
    dry_run: bool = False
    import_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def accepted(self) -> int:
        return self.created + self.updated + self.unchanged

    def add_error(self, error: RecordError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def summary(self) -> str:
        """One line for people: what happened, or in a dry run or failed import, would have."""
        if self.committed:
            created, updated = f"{self.created} created", f"{self.updated} updated"
        else:
            created = f"{self.created} would be created"
            updated = f"{self.updated} would be updated"
        parts = [
            f"{self.total} conversations read",
            created,
            updated,
            f"{self.unchanged} unchanged",
        ]
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the API answers with."""
        return {
            "format": self.format,
            "committed": self.committed,
            "dry_run": self.dry_run,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "error_count": self.error_count,
            "errors": [
                {"location": e.location, "field": e.field, "reason": e.reason} for e in self.errors
            ],
            "redactions": dict(self.redactions),
            "new_agents": self.new_agents,
            "new_teams": self.new_teams,
            "new_partners": self.new_partners,
            "import_id": self.import_id,
        }
