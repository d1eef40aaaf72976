"""Request bodies of the import endpoint: media types, gzip, size limits, JSON arrays as lines.

JSON Lines bodies are streamed to the importer as they arrive. A JSON array has to be parsed
whole, so it is capped lower and then handed to the importer one element per line. Limits apply
to the decompressed bytes too, so a small gzip body cannot expand without bound.
"""

from __future__ import annotations

import gzip
import io
import json
import re
from collections.abc import Sequence
from typing import IO, Any, TextIO, cast

from flask import request

from qa_app.api.errors import ApiError
from qa_app.conversations.limits import Bounded, InputTooLarge, setting
from qa_app.untrusted import JsonTooDeep, loads

JSON_TYPE = "application/json"
JSON_LINES_TYPES = (
    "application/x-ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "text/plain",
)
GZIP_MAGIC = b"\x1f\x8b"
GZIP_ENCODINGS = frozenset({"gzip", "x-gzip"})
_LINE_LOCATION = re.compile(r"^line (\d+)")


class _Replay(io.RawIOBase):
    """Replays bytes already read from a stream, then goes on with the stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            count = min(len(view), len(self._head))
            view[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


class _Bounded(Bounded):
    """The importer's limits, answered as 413."""

    def __init__(self, raw: IO[bytes], limit: int, line_limit: int | None) -> None:
        super().__init__(raw, limit, line_limit, what="the body")

    def readinto(self, buffer: Any) -> int:
        try:
            return super().readinto(buffer)
        except InputTooLarge as error:
            message = str(error)
            raise ApiError(413, f"{message[:1].upper()}{message[1:]}.") from None

    def close(self) -> None:  # the request's stream is the server's to close
        io.RawIOBase.close(self)


def _read_head(stream: IO[bytes], size: int) -> bytes:
    head = b""
    while len(head) < size:
        chunk = stream.read(size - len(head))
        if not chunk:
            break
        head += chunk
    return head


def _body(limit: int, line_limit: int | None) -> IO[bytes]:
    """The request body as bytes: gzip undone (recognised by its magic bytes), limits enforced."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in GZIP_ENCODINGS | {"", "identity"}:
        raise ApiError(415, f"Content-Encoding {encoding!r} is not supported; use gzip or none.")
    if request.content_length is None and "wsgi.input_terminated" not in request.environ:
        raise ApiError(411, "Send the body with a Content-Length header or chunked encoding.")
    raw = request.stream
    head = _read_head(raw, len(GZIP_MAGIC))
    if not head:
        raise ApiError(400, "The request body is empty.")
    stream: IO[bytes] = io.BufferedReader(_Replay(head, raw))
    if head == GZIP_MAGIC:
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=stream, mode="rb"))
    elif encoding in GZIP_ENCODINGS:
        raise ApiError(400, "Content-Encoding says gzip but the body is not gzip data.")
    return io.BufferedReader(_Bounded(stream, limit, line_limit))


def media_type() -> str:
    """The body's media type if the import endpoint accepts it; 415 otherwise."""
    mimetype = request.mimetype
    if mimetype != JSON_TYPE and mimetype not in JSON_LINES_TYPES:
        accepted = ", ".join((JSON_TYPE, *JSON_LINES_TYPES))
        raise ApiError(415, f"Content-Type {mimetype or 'missing'}; send one of {accepted}.")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise ApiError(415, f"charset {charset!r} is not supported; send UTF-8.")
    return mimetype


def json_lines_body() -> TextIO:
    """A JSON Lines body as a text stream, read as the importer consumes it."""
    stream = _body(setting("QA_API_MAX_INFLATED_BYTES"), setting("QA_API_MAX_LINE_BYTES"))
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")


def json_array_body() -> list[Any]:
    """Parse a JSON array body; 400 when it is not UTF-8 JSON or not an array."""
    limit = min(setting("QA_API_MAX_JSON_BYTES"), setting("QA_API_MAX_INFLATED_BYTES"))
    try:
        data = _body(limit, None).read()
        text = data.decode("utf-8-sig")
        document = loads(text)
    except UnicodeDecodeError as error:
        raise ApiError(
            400, f"The body is not UTF-8 text (invalid byte at offset {error.start})."
        ) from error
    except json.JSONDecodeError as error:
        # "Extra data" after the first value is what JSON Lines sent as application/json gives.
        hint = " For JSON Lines, send Content-Type application/x-ndjson."
        hint = hint if error.msg == "Extra data" else ""
        raise ApiError(
            400,
            f"The body is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})."
            + hint,
        ) from error
    except JsonTooDeep as error:
        raise ApiError(400, "The body is not valid JSON: it is nested too deeply.") from error
    except ValueError as error:
        raise ApiError(400, f"The body is not valid JSON: {error}.") from error
    except (OSError, EOFError) as error:
        raise ApiError(400, f"The gzip body could not be read: {error}.") from error
    if not isinstance(document, list):
        raise ApiError(
            400, "A JSON body must be an array of conversation objects; send one as [{...}]."
        )
    return document


class JsonArrayLines(io.TextIOBase):
    """The elements of a parsed JSON array as JSON Lines, one element per line, made on demand.

    Line N is element N-1; each element is released once handed out.
    """

    def __init__(self, items: list[Any]) -> None:
        self._items = items
        self._next = 0

    def readable(self) -> bool:
        return True

    # typeshed declares IOBase.readline as bytes and ignores this same override on TextIOBase.
    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if self._next >= len(self._items):
            return ""
        item, self._items[self._next] = self._items[self._next], None
        self._next += 1
        return json.dumps(item, ensure_ascii=False) + "\n"


def array_locations(errors: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Name errors of a JSON array body by element index (``index 0``) rather than line."""
    return [
        {
            **error,
            "location": _LINE_LOCATION.sub(lambda m: f"index {int(m[1]) - 1}", error["location"]),
        }
        for error in errors
    ]
