"""JSON errors of the API, in the shape qa_app.errors gives every other /api/ error."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from flask import Response, jsonify

from qa_app.errors import MESSAGES


class ApiError(Exception):
    """Raised anywhere in an API request; answered as ``{"error": {status, title, message}}``."""

    def __init__(
        self, status: int, message: str, *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def error_response(error: ApiError) -> Response:
    title = (
        MESSAGES[error.status][0] if error.status in MESSAGES else HTTPStatus(error.status).phrase
    )
    response = jsonify(
        {"error": {"status": error.status, "title": title, "message": error.message}}
    )
    response.status_code = error.status
    response.headers.update(error.headers)
    return response
