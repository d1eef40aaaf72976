"""The jobs feature's own errors."""

from __future__ import annotations

from typing import Any


class JobError(Exception):
    """A job that cannot be enqueued or found; the message says why."""


class UnknownJobKind(JobError):
    """No feature registered a handler for this kind."""


class JobInputError(Exception):
    """Raised by a handler for input that no retry can fix: the job fails with the message.

    ``result`` is kept as the job's result (an import's problems, for example).
    """

    def __init__(self, message: str, *, result: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result
