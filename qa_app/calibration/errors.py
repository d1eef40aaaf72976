"""The errors of the calibration workflow (re-exported by ``calibration.services``)."""

from __future__ import annotations

from collections.abc import Sequence

from qa_app.service_errors import Invalid


class CalibrationError(Invalid):
    """A step that is not allowed now, or not to this user; the message says why.

    Answered by the API as a problem of the request (422) with no one field to blame.
    """


class CalibrationAnswerError(CalibrationError):
    """Answers missing or invalid; ``criterion_ids`` names the criteria concerned."""

    def __init__(self, message: str, criterion_ids: Sequence[int] = ()) -> None:
        super().__init__(message)
        self.criterion_ids = tuple(criterion_ids)


class CalibrationMissingAnswers(CalibrationAnswerError):
    """Submitting needs every criterion answered; ``criterion_ids`` are the unanswered ones."""
