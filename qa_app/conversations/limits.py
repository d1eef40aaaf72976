"""Size limits of imported data, the same for the command line, the web upload and the API.

They apply to the decompressed bytes, so a small gzip file cannot inflate without bound, and to
each line, so that a file without line breaks is never held in memory whole. A JSON document
(a vendor export that is not JSON Lines, or an API body that is a JSON array) is read whole and
has a limit of its own. Each is a setting under its name (see the README's Configuration table).
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from typing import IO, Any

DEFAULT_LIMITS = {
    "QA_API_MAX_JSON_BYTES": 100 * 1024**2,  # a JSON document, decompressed: parsed in memory
    "QA_API_MAX_INFLATED_BYTES": 4 * 1024**3,  # any file or body, decompressed (gzip bombs)
    "QA_API_MAX_LINE_BYTES": 16 * 1024**2,  # one line, i.e. one conversation of JSON Lines
}


class InputTooLarge(ValueError):
    """The input passed one of the limits; the message says which (``the file is larger...``)."""


@dataclass(frozen=True)
class InputLimits:
    inflated_bytes: int = DEFAULT_LIMITS["QA_API_MAX_INFLATED_BYTES"]
    line_bytes: int = DEFAULT_LIMITS["QA_API_MAX_LINE_BYTES"]
    json_bytes: int = DEFAULT_LIMITS["QA_API_MAX_JSON_BYTES"]


def setting(name: str) -> int:
    """A limit from the app's config when there is an app, else its default."""
    from flask import current_app, has_app_context

    if has_app_context():
        return int(current_app.config.get(name, DEFAULT_LIMITS[name]))
    return DEFAULT_LIMITS[name]


def current_limits() -> InputLimits:
    return InputLimits(
        inflated_bytes=setting("QA_API_MAX_INFLATED_BYTES"),
        line_bytes=setting("QA_API_MAX_LINE_BYTES"),
        json_bytes=setting("QA_API_MAX_JSON_BYTES"),
    )


class Bounded(io.RawIOBase):
    """Counts (decompressed) bytes and refuses past ``limit``, or a line longer than ``line_limit``.

    ``what`` names the input in the messages ("the body", "the file"). Corrupt gzip data
    surfaces as OSError, which the importer reports as an unreadable input.
    """

    def __init__(
        self, raw: IO[bytes], limit: int, line_limit: int | None, what: str = "the file"
    ) -> None:
        self._raw = raw
        self._limit = limit
        self._line_limit = line_limit
        self._what = what
        self._count = 0
        self._line = 0  # bytes since the last newline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._raw.read(len(view))
        except zlib.error as error:
            raise gzip.BadGzipFile(f"corrupt gzip data ({error})") from error
        self._count += len(data)
        if self._count > self._limit:
            raise InputTooLarge(
                f"{self._what} is larger than {self._limit:,} bytes once decompressed"
            )
        if self._line_limit is not None:
            self._check_lines(data, self._line_limit)
        view[: len(data)] = data
        return len(data)

    def _check_lines(self, data: bytes, line_limit: int) -> None:
        first = data.find(b"\n")
        if first == -1:
            self._line += len(data)
            longest = self._line
        else:
            longest = max(self._line + first, *(len(part) for part in data.split(b"\n")[1:]))
            self._line = len(data) - data.rfind(b"\n") - 1
        if longest > line_limit:
            raise InputTooLarge(
                f"a line of {self._what} is longer than {line_limit:,} bytes;"
                " one line holds one conversation"
            )

    def close(self) -> None:
        self._raw.close()
        super().close()
