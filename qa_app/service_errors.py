"""What a service's refusal means, whatever the way in: no such thing, not allowed, not now,
or wrong input (naming the field).

Services raise these (or their own subclasses of them); pages flash the message, and the API
answers each kind with its status (qa_app/api/errors.py), so nothing reads a message's text
to choose an answer.
"""

from __future__ import annotations

from collections.abc import Sequence

# (field, reason); the field is None when no one field is to blame (the object's state is).
Problem = tuple[str | None, str]


class ServiceError(Exception):
    """A service refused; the subclass says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """There is no such object, or it is not the user's to see."""


class Forbidden(ServiceError):
    """The user may not do this."""


class Conflict(ServiceError):
    """The object's state does not allow this now."""


class Invalid(ServiceError):
    """The input is wrong: each problem names its field (or None) and the reason."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.problems: list[Problem] = [(field, message)]

    @classmethod
    def of(cls, problems: Sequence[Problem]) -> Invalid:
        """One refusal listing several problems; ``problems`` must not be empty."""
        first_field, first_reason = problems[0]
        invalid = cls(first_reason, first_field)
        invalid.problems = list(problems)
        return invalid
