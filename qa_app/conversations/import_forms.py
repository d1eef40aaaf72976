"""Forms for importing conversations from an uploaded file."""

from __future__ import annotations

from typing import Any

from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from qa_app.conversations.formats import FORMATS
from qa_app.conversations.importer import UNASSIGNED_TEAM, ImportOptions
from qa_app.conversations.records import MAX_SOURCE_LENGTH
from qa_app.conversations.uploads import TOKEN_PATTERN
from qa_app.forms import Form, choices

DETECT = ""  # the format choice that means "tell it from the file"
FORMAT_LABELS = {
    "jsonl": "Canonical JSON Lines",
    "csv": "CSV, one row per message",
    "zendesk": "Zendesk tickets export",
    "intercom": "Intercom conversations export",
}
ALLOWED_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
ACCEPT = ",".join((*ALLOWED_SUFFIXES, ".gz"))

UNKNOWN_AGENTS_RULE = (
    "Create: an agent id the app does not know becomes a new agent, in the team the file names "
    f"(created too, with its partner, when new) or in the team “{UNASSIGNED_TEAM}” when it names "
    "none. Reject: conversations of unknown agents are not imported and are listed as problems."
)


def _allowed_file_name(form: Form, field: FileField) -> None:
    name = (getattr(field.data, "filename", None) or "").lower().removesuffix(".gz")
    if not name.endswith(ALLOWED_SUFFIXES):
        raise ValidationError(
            "Choose a .jsonl, .json or .csv file, optionally gzip-compressed (.gz)."
        )


class ImportOptionsForm(Form):
    format = SelectField(
        "Format",
        choices=choices(
            [(DETECT, "Detect from the file"), *((name, FORMAT_LABELS[name]) for name in FORMATS)]
        ),
        default=DETECT,
    )
    source = StringField(
        "Source name",
        validators=[Optional(), Length(max=MAX_SOURCE_LENGTH)],
        description="The system the conversations come from, such as zendesk. Replaces the "
        "source named in the file; needed when the file names none.",
    )
    unknown_agents = SelectField(
        "Agents the app does not know",
        choices=choices([("create", "Create them"), ("reject", "Reject their conversations")]),
        default="create",
        description=UNKNOWN_AGENTS_RULE,
    )
    partial = BooleanField(
        "Import the good conversations even if some are bad",
        description="Without this, nothing is imported while any conversation in the file has "
        "a problem.",
    )

    def import_options(
        self, *, redact: bool, dry_run: bool, create_partners: bool
    ) -> ImportOptions:
        return ImportOptions(
            format=self.format.data or None,
            source=(self.source.data or "").strip() or None,
            partial=bool(self.partial.data),
            unknown_agents=self.unknown_agents.data or "create",
            dry_run=dry_run,
            redact=redact,
            create_partners=create_partners,
        )

    def option_values(self) -> dict[str, Any]:
        """The options as keyword arguments for another form of this family."""
        return {
            "format": self.format.data or DETECT,
            "source": self.source.data or "",
            "unknown_agents": self.unknown_agents.data,
            "partial": bool(self.partial.data),
        }


class UploadForm(ImportOptionsForm):
    file = FileField(
        "Conversation file",
        validators=[FileRequired("Choose a file to import."), _allowed_file_name],
        render_kw={"accept": ACCEPT},
        description="JSON Lines, CSV, Zendesk or Intercom export; gzip-compressed files "
        "(.gz) are accepted.",
    )
    submit = SubmitField("Preview import")


class UploadTokenForm(Form):
    """Names an upload stored by an earlier preview."""

    token = HiddenField(
        validators=[InputRequired(), Regexp(rf"{TOKEN_PATTERN}\Z", message="Not an upload.")]
    )


class StoredImportForm(UploadTokenForm, ImportOptionsForm):
    """A stored upload with the options to preview it again with, or to commit it with."""

    submit = SubmitField("Commit import")
