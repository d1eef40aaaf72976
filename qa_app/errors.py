"""Error pages that say what went wrong for the user and nothing about the server."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask.typing import ResponseValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back and try again."),
    401: ("Log in required", "Please log in to continue."),
    403: ("Not allowed", "Your role does not give you access to this page."),
    404: ("Not found", "There is nothing here, or it is not yours to see."),
    405: ("Not allowed", "That action cannot be done this way."),
    409: (
        "Changed at the same time",
        "Someone else saved the same thing at the same moment, so yours was not saved. "
        "Reload the page to see what is there now, then try again.",
    ),
    413: ("Too large", "The upload is larger than this server accepts."),
    429: ("Too many requests", "Too many requests in a short time. Wait a little and try again."),
    500: ("Something went wrong", "An unexpected error happened. It has been logged."),
}
logger = logging.getLogger(__name__)
# What an error handler returns: the body (a JSON mapping or a page), the status, the headers.
ErrorAnswer = tuple[ResponseValue, int, list[tuple[str, str]]]


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _render(
    code: int, title: str, message: str, headers: list[tuple[str, str]] | None = None
) -> ErrorAnswer:
    # The exception's own headers (Allow on 405, WWW-Authenticate on 401) are kept;
    # its Content-Type is not, since the body is ours.
    kept = [(name, value) for name, value in headers or [] if name.lower() != "content-type"]
    if wants_json():
        return {"error": {"status": code, "title": title, "message": message}}, code, kept
    page = render_template("errors/error.html", code=code, title=title, message=message)
    return page, code, kept


def error_answer(code: int, message: str) -> ErrorAnswer:
    """An error answer (JSON under /api/, a page elsewhere) with a message of the caller's."""
    return _render(code, MESSAGES.get(code, ("Error", ""))[0], message)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> ErrorAnswer:
        return _render(400, "Form expired", "The form was too old. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ErrorAnswer:
        code = error.code or 500
        title, message = MESSAGES.get(code, (error.name, "The request could not be completed."))
        return _render(code, title, message, error.get_headers())

    @app.errorhandler(IntegrityError)
    def _conflict(error: IntegrityError) -> ErrorAnswer:
        # A uniqueness race that no service turned into its own answer (two people creating the
        # same team at once): the transaction is void, nothing was written; say so, not 500.
        from qa_app.db import get_session

        get_session().rollback()
        logger.warning("integrity error answered 409: %s", error.orig)
        return _render(409, *MESSAGES[409])

    @app.errorhandler(InternalServerError)
    def _unexpected(error: InternalServerError) -> ErrorAnswer:
        # Flask has logged the original exception; the page shows none of it.
        title, message = MESSAGES[500]
        return _render(500, title, message)
