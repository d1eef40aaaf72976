"""Job kinds of conversations: import a stored upload in the background, with progress."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from flask import current_app
from sqlalchemy.orm import Session

from qa_app.auth.models import User
from qa_app.conversations.importer import ImportFailed, ImportOptions, ImportReport, import_file
from qa_app.conversations.uploads import Upload, UploadBusy, UploadStore, is_token
from qa_app.jobs.errors import JobInputError
from qa_app.jobs.models import Job
from qa_app.jobs.registry import JobContext, register_kind
from qa_app.jobs.services import enqueue, job_with_key

IMPORT_KIND = "import_conversations"
RESULT_ERRORS = 20  # problems kept in the job's result; the count covers them all
OPTION_NAMES = ("format", "source", "partial", "unknown_agents", "redact", "create_partners")


def upload_store() -> UploadStore:
    """Where web uploads wait; the worker must see the same folder (shared storage)."""
    folder = current_app.config.get("QA_UPLOAD_FOLDER") or os.path.join(
        current_app.instance_path, "uploads"
    )
    return UploadStore(Path(folder))


def start_import(
    session: Session, upload: Upload, options: ImportOptions, *, by: User, key: str | None = None
) -> Job:
    """Queue the import of a stored upload (flushed); it starts once the caller commits."""
    params: dict[str, Any] = {"_upload": upload.token, "filename": upload.filename}
    params |= {name: getattr(options, name) for name in OPTION_NAMES}
    return enqueue(session, IMPORT_KIND, params, by=by, key=key)


def import_job(
    session: Session, upload: Upload, options: ImportOptions, *, by: User
) -> tuple[Job, bool]:
    """The job importing a stored upload, and whether it was started now (flushed): an upload
    is imported once, so asking again (the Import button pressed twice) finds the first job."""
    key = f"import:{upload.token}"
    found = job_with_key(session, key)
    if found is not None:
        return found, False
    return start_import(session, upload, options, by=by, key=key), True


def _options(params: dict[str, Any]) -> ImportOptions:
    try:
        return ImportOptions(
            format=params.get("format"),
            source=params.get("source"),
            partial=bool(params.get("partial", False)),
            unknown_agents=str(params.get("unknown_agents", "create")),
            redact=bool(params.get("redact", True)),
            create_partners=bool(params.get("create_partners", False)),
        )
    except (TypeError, ValueError) as error:
        raise JobInputError(f"The import options are not valid: {error}") from error


def _upload(store: UploadStore, job: JobContext) -> Upload:
    token = job.params.get("_upload")
    found = None
    if job.started_by_id is not None and is_token(token):
        found = store.find(str(token), user_id=job.started_by_id)
    if found is None:
        raise JobInputError(
            "The uploaded file is no longer there (uploads are kept for a day); upload it again."
        )
    return found


def _summary(report: ImportReport) -> dict[str, Any]:
    result = report.as_dict()
    result["errors"] = result["errors"][:RESULT_ERRORS]
    result["summary"] = report.summary()
    return result


def run_import(session: Session, job: JobContext) -> dict[str, Any]:
    """Import the upload named by the job; progress is the share of the file read so far."""
    store = upload_store()
    upload = _upload(store, job)
    if upload.imported:  # an earlier attempt imported it and then lost track of the job
        return {"import_id": upload.import_id, "already_imported": True, "committed": True}
    options = _options(job.params)
    try:
        with store.claim(upload) as path, open(path, "rb") as raw:
            size = os.fstat(raw.fileno()).st_size
            report = import_file(
                session,
                raw,
                options,
                via="web",
                filename=upload.filename,
                user_id=job.started_by_id,
                on_batch=lambda so_far: _progress(job, raw, size, so_far),
            )
            if report.committed and report.import_id is not None:
                store.mark_imported(upload, report.import_id)
    except UploadBusy as error:
        raise JobInputError(f"{upload.filename} is being imported right now elsewhere.") from error
    result = _summary(report)
    if not report.committed:
        raise JobInputError(
            f"Nothing was imported: {report.error_count} problems found"
            " (import the good conversations with the 'partial' option).",
            result=result,
        )
    job.progress(size, size, report.summary())
    return result


def _progress(job: JobContext, raw: IO[bytes], size: int, report: ImportReport) -> None:
    job.progress(min(raw.tell(), size), size, f"{report.total:,} conversations read")


register_kind(IMPORT_KIND, run_import, label="Import conversations", input_errors=(ImportFailed,))
