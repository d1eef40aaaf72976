"""Import formats: a parser per format, format detection, and streaming file opening.

Every parser has the same signature, ``parse(stream, *, source=None) -> Iterator[ParsedItem]``,
so the importer can treat formats alike and stream files of any size.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import zlib
from collections.abc import Iterator
from typing import IO, Any, Protocol, TextIO, cast

from qa_app.conversations.formats.csv import parse_csv
from qa_app.conversations.formats.intercom import parse_intercom
from qa_app.conversations.formats.jsonl import parse_jsonl
from qa_app.conversations.formats.zendesk import parse_zendesk
from qa_app.conversations.limits import Bounded, InputLimits
from qa_app.conversations.records import ParsedItem
from qa_app.untrusted import TOO_DEEP, JsonTooDeep, loads

__all__ = ["FORMATS", "Parser", "detect_format", "open_text"]

GZIP_MAGIC = b"\x1f\x8b"
DETECT_TEXT_BYTES = 64 * 1024  # decompressed: a small gzip head must not inflate without bound


class Parser(Protocol):
    def __call__(self, stream: TextIO, *, source: str | None = None) -> Iterator[ParsedItem]: ...


FORMATS: dict[str, Parser] = {
    "jsonl": parse_jsonl,
    "csv": parse_csv,
    "zendesk": parse_zendesk,
    "intercom": parse_intercom,
}

_INTERCOM_KEYS = re.compile(
    r'"(?:conversation_parts|conversations)"\s*:|"type"\s*:\s*"conversation"'
)
_ZENDESK_KEYS = re.compile(r'"(?:tickets|ticket|requester_id|satisfaction_rating)"\s*:')
_CANONICAL_KEYS = re.compile(r'"messages"\s*:')


def _classify_json(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("messages"), list):
        return "jsonl"
    if "tickets" in value or "ticket" in value or "requester_id" in value:
        return "zendesk"
    if (
        "conversations" in value
        or value.get("type") == "conversation"
        or ("conversation_parts" in value)
    ):
        return "intercom"
    return None


def detect_format(filename: str, head: bytes) -> str:
    """Guess the format from the first bytes (gzip or not) of a file, then from its name.

    Content wins over the name because vendor exports are JSON Lines too. Pass at least the
    first line (64 KiB is plenty). Raises ValueError when the format cannot be told.
    """
    if head[:2] == GZIP_MAGIC:
        try:
            head = zlib.decompressobj(wbits=31).decompress(head, DETECT_TEXT_BYTES)
        except zlib.error:
            head = b""
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    too_deep = ""
    if text.startswith(("{", "[")):
        first_line = text.split("\n", 1)[0]
        try:
            found = _classify_json(loads(first_line))
        except ValueError as error:  # truncated or pretty-printed: look for telltale keys
            too_deep = (
                f": its first JSON value is {TOO_DEEP}" if isinstance(error, JsonTooDeep) else ""
            )
            found = None
            for name, keys in (
                ("intercom", _INTERCOM_KEYS),
                ("zendesk", _ZENDESK_KEYS),
                ("jsonl", _CANONICAL_KEYS),
            ):
                if keys.search(text):
                    found = name
                    break
        if found:
            return found
    elif "conversation_id" in text.split("\n", 1)[0].lower():
        return "csv"
    name = filename.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise ValueError(
        f"cannot tell the format of {filename!r}{too_deep}; choose one of {', '.join(FORMATS)}"
    )


class _PrefixedStream(io.RawIOBase):
    """Replays bytes already read from a non-seekable stream, then continues with the stream."""

    def __init__(self, prefix: bytes, rest: IO[bytes]) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._prefix:
            count = min(len(view), len(self._prefix))
            view[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._rest.close()
        super().close()


class _GzipReader(gzip.GzipFile):
    """A GzipFile that also closes the stream it reads, so one close releases the file."""

    def __init__(self, fileobj: IO[bytes]) -> None:
        self._underlying = fileobj
        super().__init__(fileobj=fileobj, mode="rb")

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._underlying.close()


def _peek(stream: IO[bytes], size: int) -> tuple[bytes, IO[bytes]]:
    """Look at the first bytes without consuming them, whatever kind of stream it is."""
    peek = getattr(stream, "peek", None)
    if callable(peek):
        data = peek(size)
        if len(data) >= size or not data:
            return bytes(data[:size]), stream
    if stream.seekable():
        position = stream.tell()
        data = stream.read(size)
        stream.seek(position)
        return data, stream
    data = stream.read(size)
    return data, io.BufferedReader(_PrefixedStream(data, stream))


def open_text(
    source: str | os.PathLike[str] | IO[bytes], limits: InputLimits | None = None
) -> TextIO:
    """Open a path or binary stream as streamed UTF-8 text, decompressing gzip transparently.

    Gzip is recognised by its magic bytes (1f 8b), not by the file name, because uploads are
    often renamed. A UTF-8 byte-order mark is dropped. ``newline=""`` keeps quoted CSV newlines
    intact. Decoding errors surface as UnicodeDecodeError while reading, and with ``limits``
    too much data (decompressed) or too long a line as InputTooLarge. Closing the result
    closes the underlying stream.
    """
    binary: IO[bytes]
    binary = open(source, "rb") if isinstance(source, str | os.PathLike) else source  # noqa: SIM115
    magic, binary = _peek(binary, 2)
    if magic == GZIP_MAGIC:
        binary = cast(IO[bytes], _GzipReader(binary))
    if limits is not None:
        bounded = Bounded(binary, limits.inflated_bytes, limits.line_bytes, what="the file")
        binary = io.BufferedReader(bounded)
    return io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
