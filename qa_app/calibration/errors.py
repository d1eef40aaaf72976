"""The errors of the calibration workflow (re-exported by ``calibration.services``)."""

from __future__ import annotations

from collections.abc import Sequence


class CalibrationError(Exception):
    """A step that is not allowed now, or not to this user; the message says why."""


class CalibrationAnswerError(CalibrationError):
    """Answers missing or invalid; ``criterion_ids`` names the criteria concerned."""

    def __init__(self, message: str, criterion_ids: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.criterion_ids = tuple(criterion_ids)
