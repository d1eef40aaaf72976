"""Private storage for uploaded import files between their preview and their commit.

An upload is kept as ``<token>.upload`` beside a ``<token>.json`` sidecar naming its owner and the
file name the user gave. The token is random and is the only name on disk, so a user's file name
never reaches the file system, and a token posted back is checked against one strict pattern
before any path is built from it. No Flask or database import: the web views decide where the
folder is.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, TypeGuard

TOKEN_BYTES = 32
TOKEN_PATTERN = r"[A-Za-z0-9_-]{43}"  # what secrets.token_urlsafe(32) produces
_TOKEN_RE = re.compile(TOKEN_PATTERN)
_STORED_RE = re.compile(rf"({TOKEN_PATTERN})\.(upload|importing|json|tmp)")
DATA, CLAIMED, SIDECAR, TEMPORARY = "upload", "importing", "json", "tmp"
MAX_FILENAME_LENGTH = 255
COPY_BUFFER = 1024 * 1024


class UploadBusy(RuntimeError):
    """The upload is being imported by another request (a double-click on "Commit")."""


@dataclass(frozen=True)
class Upload:
    token: str
    user_id: int
    filename: str  # as the user named it, for display and format detection only
    size: int
    import_id: int | None = None  # set once the upload has been imported

    @property
    def imported(self) -> bool:
        return self.import_id is not None


def is_token(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _TOKEN_RE.fullmatch(value) is not None


def display_filename(name: str) -> str:
    """The last part of a browser-sent file name, without control characters, for display."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(char for char in base if char.isprintable()).strip()
    return base[:MAX_FILENAME_LENGTH] or "upload"


class UploadStore:
    """Uploads of all users in one private folder, created on first use (mode 0700)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, token: str, kind: str) -> Path:
        if not is_token(token):  # the only guard a path is ever built behind
            raise ValueError("not an upload token")
        return self.folder / f"{token}.{kind}"

    def save(self, stream: IO[bytes], *, user_id: int, filename: str) -> Upload:
        """Copy ``stream`` into a new private file; the caller checks the size it reports."""
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        data_path = self._path(token, DATA)
        descriptor = os.open(data_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as target:
            shutil.copyfileobj(stream, target, COPY_BUFFER)
        upload = Upload(
            token=token,
            user_id=user_id,
            filename=display_filename(filename),
            size=data_path.stat().st_size,
        )
        self._write_sidecar(upload)
        return upload

    def _write_sidecar(self, upload: Upload) -> None:
        sidecar = {
            "user_id": upload.user_id,
            "filename": upload.filename,
            "import_id": upload.import_id,
        }
        temporary = self._path(upload.token, TEMPORARY)
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as target:
            json.dump(sidecar, target)
        os.replace(temporary, self._path(upload.token, SIDECAR))

    def find(self, token: str | None, *, user_id: int) -> Upload | None:
        """The user's upload with this token; None when malformed, missing or someone else's."""
        if not is_token(token):
            return None
        try:
            sidecar = json.loads(self._path(token, SIDECAR).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(sidecar, dict) or sidecar.get("user_id") != user_id:
            return None
        import_id = sidecar.get("import_id")
        data_path = self._path(token, DATA)
        if import_id is None and not (data_path.exists() or self._path(token, CLAIMED).exists()):
            return None
        return Upload(
            token=token,
            user_id=user_id,
            filename=str(sidecar.get("filename") or "upload"),
            size=data_path.stat().st_size if data_path.exists() else 0,
            import_id=import_id if isinstance(import_id, int) else None,
        )

    def data_path(self, upload: Upload) -> Path:
        return self._path(upload.token, DATA)

    @contextmanager
    def claim(self, upload: Upload) -> Iterator[Path]:
        """Hold the file for one import; a second claim meanwhile raises UploadBusy.

        Renaming is atomic, so two requests cannot both import the same upload. Unless
        ``mark_imported`` is called inside the block, the file is put back afterwards.
        """
        data_path, claimed_path = self._path(upload.token, DATA), self._path(upload.token, CLAIMED)
        try:
            os.rename(data_path, claimed_path)
        except FileNotFoundError as error:
            raise UploadBusy(upload.token) from error
        try:
            yield claimed_path
        finally:
            if claimed_path.exists():
                os.rename(claimed_path, data_path)

    def mark_imported(self, upload: Upload, import_id: int) -> None:
        """Delete the file; the sidecar remembers the import so a repeated commit is harmless."""
        for kind in (CLAIMED, DATA):
            self._path(upload.token, kind).unlink(missing_ok=True)
        self._write_sidecar(Upload(upload.token, upload.user_id, upload.filename, 0, import_id))

    def discard(self, upload: Upload) -> None:
        for kind in (DATA, CLAIMED, SIDECAR, TEMPORARY):
            self._path(upload.token, kind).unlink(missing_ok=True)

    def clean(self, older_than: timedelta) -> int:
        """Delete stored files not touched for ``older_than``; returns how many went."""
        if not self.folder.is_dir():
            return 0
        cutoff = time.time() - older_than.total_seconds()
        removed = 0
        for entry in os.scandir(self.folder):
            if not _STORED_RE.fullmatch(entry.name):
                continue  # never touch what this store did not write
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # removed meanwhile by a concurrent clean or commit
        return removed
