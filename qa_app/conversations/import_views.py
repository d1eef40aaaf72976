"""Admins and managers upload a conversation file, preview the import, then commit it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from qa_app.auth.models import User
from qa_app.conversations.import_forms import (
    FORMAT_LABELS,
    ImportOptionsForm,
    StoredImportForm,
    UploadForm,
    UploadTokenForm,
)
from qa_app.conversations.importer import ImportFailed, ImportOptions, ImportReport, import_file
from qa_app.conversations.jobs import import_job
from qa_app.conversations.models import ConversationImport
from qa_app.conversations.uploads import Upload, UploadBusy, UploadStore
from qa_app.db import get_session
from qa_app.org.access import role_required
from qa_app.org.roles import ORG_EDITORS, Role
from qa_app.org.services import organisation_settings
from qa_app.pagination import page_args, paginate

bp = Blueprint("conversation_imports", __name__, url_prefix="/conversations/import")

IMPORTERS = ORG_EDITORS
UPLOAD_MAX_AGE = timedelta(days=1)
RECENT_IMPORTS = 5
CONVERSATION_LIST = "conversations.list_conversations"
NEWEST_FIRST = (ConversationImport.started_at.desc(), ConversationImport.id.desc())
REDACTION_LABELS = {
    "email": "Email addresses",
    "phone": "Phone numbers",
    "card": "Card numbers",
    "iban": "IBANs",
}
BLOCKED_BY_PROBLEMS = (
    "Nothing will be imported while there are problems: fix the file, "
    "or tick 'import the good conversations'."
)
NOTHING_TO_IMPORT = "There is no valid conversation to import in this file."

HistoryRow = tuple[ConversationImport, User | None]


def _store() -> UploadStore:
    folder = current_app.config.get("QA_UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    return UploadStore(Path(folder))


def _history_rows(imports: list[ConversationImport]) -> list[HistoryRow]:
    user_ids = {run.user_id for run in imports if run.user_id is not None}
    users: Iterable[User] = (
        get_session().scalars(select(User).where(User.id.in_(user_ids))) if user_ids else []
    )
    by_id = {user.id: user for user in users}
    return [(run, by_id.get(run.user_id) if run.user_id else None) for run in imports]


def _render_upload(form: UploadForm) -> str:
    session = get_session()
    recent = session.scalars(
        select(ConversationImport).order_by(*NEWEST_FIRST).limit(RECENT_IMPORTS)
    )
    return render_template(
        "conversations/import_upload.html",
        form=form,
        recent=_history_rows(list(recent)),
        redact=_redact_pii(),
    )


def _redact_pii() -> bool:
    """The organisation's choice; the installation's QA_REDACT_PII until an admin makes one."""
    default = bool(current_app.config["QA_REDACT_PII"])
    return organisation_settings(get_session(), default_redact=default).redact_pii


def _options(form: ImportOptionsForm, *, dry_run: bool) -> ImportOptions:
    return form.import_options(
        redact=_redact_pii(), dry_run=dry_run, create_partners=current_user.role == Role.ADMIN
    )


def _import(store: UploadStore, upload: Upload, options: ImportOptions) -> ImportReport:
    """Run the importer on a stored upload (a dry run is rolled back: an exact preview).

    The upload is claimed meanwhile, so a double-clicked commit cannot import it twice; once
    imported for real, its file is deleted.
    """
    with store.claim(upload) as path:
        report = import_file(
            get_session(),
            path,
            options,
            via="web",
            filename=upload.filename,
            user_id=current_user.id,
        )
        if report.committed and report.import_id is not None:
            store.mark_imported(upload, report.import_id)
    return report


def _commit_blocked(report: ImportReport, partial: bool) -> str | None:
    if report.error_count and not partial:
        return BLOCKED_BY_PROBLEMS
    if not report.accepted:
        return NOTHING_TO_IMPORT
    return None


def _render_preview(
    upload: Upload, report: ImportReport, form: ImportOptionsForm, options: ImportOptions
) -> str:
    values = form.option_values() | {"format": report.format}  # commit what was previewed
    return render_template(
        "conversations/import_preview.html",
        upload=upload,
        report=report,
        form=StoredImportForm(formdata=None, token=upload.token, **values),
        blocked=_commit_blocked(report, options.partial),
        redact=options.redact,
        format_labels=FORMAT_LABELS,
        kind_labels=REDACTION_LABELS,
    )


def _refuse_unreadable(form: ImportOptionsForm, upload: Upload, error: ImportFailed) -> str:
    _store().discard(upload)
    retry = UploadForm(formdata=None, **form.option_values())
    retry.file.errors = [f"{upload.filename}: {error}; nothing was imported."]
    return _render_upload(retry)


@bp.get("")
@role_required(IMPORTERS)
def upload() -> str:
    """Show the upload form and the most recent imports."""
    return _render_upload(UploadForm())


@bp.post("/preview")
@role_required(IMPORTERS)
def preview() -> str:
    """Keep an uploaded file privately and show what importing it would do."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _render_upload(form)
    store = _store()
    store.clean(UPLOAD_MAX_AGE)
    file = form.file.data
    upload = store.save(file.stream, user_id=current_user.id, filename=file.filename or "")
    if upload.size == 0:
        store.discard(upload)
        form.file.errors = ["The file is empty."]
        return _render_upload(form)
    options = _options(form, dry_run=True)
    try:
        report = _import(store, upload, options)
    except ImportFailed as error:
        return _refuse_unreadable(form, upload, error)
    return _render_preview(upload, report, form, options)


@bp.post("/review")
@role_required(IMPORTERS)
def review() -> str | Response:
    """Preview a stored upload again with other options."""
    form = StoredImportForm()
    if not form.validate_on_submit():
        abort(400)
    store = _store()
    upload = store.find(form.token.data, user_id=current_user.id) or abort(404)
    if upload.imported:
        abort(404)
    options = _options(form, dry_run=True)
    try:
        report = _import(store, upload, options)
    except UploadBusy:
        return _busy(upload)
    except ImportFailed as error:
        return _refuse_unreadable(form, upload, error)
    return _render_preview(upload, report, form, options)


@bp.post("/commit")
@role_required(IMPORTERS)
def commit() -> str | Response:
    """Import a previewed upload for real, then delete the stored file."""
    form = StoredImportForm()
    if not form.validate_on_submit():
        abort(400)
    store = _store()
    upload = store.find(form.token.data, user_id=current_user.id) or abort(404)
    if upload.imported:
        flash(f"{upload.filename} has already been imported.", "info")
        return redirect(_after_commit_url())
    options = _options(form, dry_run=False)
    if upload.size >= int(current_app.config["QA_IMPORT_BACKGROUND_BYTES"]):
        return _import_in_background(upload, options)
    try:
        report = _import(store, upload, options)
    except UploadBusy:
        return _busy(upload)
    except ImportFailed as error:
        return _refuse_unreadable(form, upload, error)
    if not report.committed:
        flash(f"Nothing was imported: {report.error_count} problems found.", "danger")
        return _render_preview(upload, report, form, options)
    flash(_commit_message(upload, report), "success")
    return redirect(_after_commit_url())


@bp.post("/discard")
@role_required(IMPORTERS)
def discard() -> Response:
    """Delete a stored upload without importing it."""
    form = UploadTokenForm()
    if form.validate_on_submit():
        store = _store()
        found = store.find(form.token.data, user_id=current_user.id)
        if found is not None and not found.imported:
            store.discard(found)
            flash(f"{found.filename} was discarded; nothing was imported.", "info")
    return redirect(url_for(".upload"))


@bp.get("/history")
@role_required(IMPORTERS)
def history() -> str:
    """List every import, newest first: who brought which file in, how, and with what result."""
    session = get_session()
    page = paginate(session, select(ConversationImport).order_by(*NEWEST_FIRST), *page_args())
    return render_template(
        "conversations/import_history.html", page=page, rows=_history_rows(list(page.items))
    )


def _import_in_background(upload: Upload, options: ImportOptions) -> Response:
    """A large file is imported by a worker; its job page shows the progress."""
    session = get_session()
    job, started = import_job(session, upload, options, by=current_user)
    if started:
        session.commit()
        flash(f"{upload.filename} is being imported in the background.", "info")
    return redirect(url_for("jobs.job", job_id=job.id))


def _busy(upload: Upload) -> Response:
    flash(f"{upload.filename} is being imported right now; see the history.", "info")
    return redirect(url_for(".history"))


def _commit_message(upload: Upload, report: ImportReport) -> str:
    message = f"{upload.filename} imported: {report.summary()}."
    if report.rejected:
        message += f" {report.rejected} conversations with problems were skipped."
    if report.redactions:
        kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(report.redactions.items()))
        message += f" Personal data redacted: {kinds}."
    return message


def _after_commit_url() -> str:
    if CONVERSATION_LIST in current_app.view_functions:
        return url_for(CONVERSATION_LIST)
    return url_for(".history")
