"""The ``api`` blueprint: /api/v1, CSRF-exempt (bearer tokens only), JSON errors, never cached."""

from __future__ import annotations

from flask import Blueprint, Response

from qa_app.api.errors import ApiError, error_response
from qa_app.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
bp.register_error_handler(ApiError, error_response)


@bp.after_request
def _no_store(response: Response) -> Response:
    # Answers carry customer conversations: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
