"""JSON errors of the API, in the shape qa_app.errors gives every other /api/ error.

``{"error": {"status", "title", "message"}}``, and for a body that failed validation (422) also
``"errors": [{"field", "message"}, ...]`` listing every problem. Services' refusals
(qa_app.service_errors) are answered with the status their kind means.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus

from flask import Response, jsonify

from qa_app.errors import MESSAGES
from qa_app.service_errors import Conflict, Forbidden, Invalid, NotFound, Problem, ServiceError

TITLES = {422: "Unprocessable content"}
STATUS_OF: dict[type[ServiceError], int] = {NotFound: 404, Forbidden: 403, Conflict: 409}


class ApiError(Exception):
    """Raised anywhere in an API request; answered as ``{"error": {status, title, message}}``."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        problems: Sequence[Problem] = (),
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.problems = list(problems)


def unprocessable(problems: Sequence[Problem], noun: str) -> ApiError:
    """A 422 naming every problem; the message says that the ``noun`` was not saved."""
    count = len(problems)
    message = (
        f"The {noun} was not saved: {problems[0][1]}"
        if count == 1
        else f"The {noun} was not saved: {count} problems, listed in 'errors'."
    )
    return ApiError(422, message, problems=problems)


def from_service(error: ServiceError, noun: str) -> ApiError:
    """The API's answer to a service's refusal, by the refusal's kind."""
    if isinstance(error, Invalid):
        return unprocessable(error.problems, noun)
    for kind, status in STATUS_OF.items():
        if isinstance(error, kind):
            return ApiError(status, error.message)
    return unprocessable([(None, error.message)], noun)


def title_of(status: int) -> str:
    if status in TITLES:
        return TITLES[status]
    return MESSAGES[status][0] if status in MESSAGES else HTTPStatus(status).phrase


def error_response(error: ApiError) -> Response:
    body: dict[str, object] = {
        "status": error.status,
        "title": title_of(error.status),
        "message": error.message,
    }
    if error.problems:
        body["errors"] = [{"field": field, "message": text} for field, text in error.problems]
    response = jsonify({"error": body})
    response.status_code = error.status
    response.headers.update(error.headers)
    return response
