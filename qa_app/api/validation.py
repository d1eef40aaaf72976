"""Validation failures in the API's error shape, not pydantic's or spectree's.

A bad query parameter is a 400 naming the parameter ("Query parameter 'page' must be a whole
number, got 'x'."); a body that fails its model is a 422 listing every problem by field. Before
a body meets its model, it must be a JSON object of UTF-8 text with nothing a database cannot
store: those refusals are 415, 400 and 422 as for every other way in (qa_app.untrusted).
"""

from __future__ import annotations

from typing import Any

from flask import request
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from qa_app.api.errors import ApiError, unprocessable
from qa_app.service_errors import Problem
from qa_app.untrusted import MAX_ID, NUL_REASON, JsonTooDeep, is_id, loads, nul_paths

# Messages of pydantic's own error types; the API's types carry their message (params, models).
REASONS = {
    "missing": "is required",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "dict_type": "must be an object",
}


def _field(error: ErrorDetails) -> str:
    return ".".join(str(part) for part in error["loc"])


def _reason(error: ErrorDetails, noun: str) -> str:
    if error["type"] == "extra_forbidden":
        return f"is not a field of a {noun}"
    return REASONS.get(error["type"], error["msg"])


def query_error(error: ValidationError) -> ApiError:
    """The first bad query parameter, as a 400."""
    first = error.errors(include_url=False, include_context=False)[0]
    return ApiError(400, f"Query parameter '{_field(first)}' {_reason(first, 'query')}.")


def body_problems(error: ValidationError, noun: str) -> list[Problem]:
    """Every problem of a body: unknown fields first (by name), then the model's in its order."""
    errors = error.errors(include_url=False, include_context=False)
    unknown = sorted(_field(e) for e in errors if e["type"] == "extra_forbidden")
    problems: list[Problem] = [(field, f"is not a field of a {noun}") for field in unknown]
    problems += [(_field(e), _reason(e, noun)) for e in errors if e["type"] != "extra_forbidden"]
    return problems


def _unstorable(body: dict[str, Any]) -> list[Problem]:
    """Texts with NUL characters (anywhere, keys too) and ids no database row can have."""
    problems: list[Problem] = [(path, NUL_REASON) for path in nul_paths(body)]
    for field, value in body.items():
        is_number = isinstance(value, int) and not isinstance(value, bool)
        if (field == "id" or field.endswith("_id")) and is_number and not is_id(value):
            problems.append((field, f"must be an id from 1 to {MAX_ID}"))
    return problems


def check_json_object(noun: str) -> None:
    """Refuse a body that is not a storable JSON object: 415 for another media type, 400 for
    anything but an object, 422 (naming the fields) for NUL characters and ids out of range."""
    if request.mimetype != "application/json":
        raise ApiError(415, f"Send the {noun} as JSON with Content-Type: application/json.")
    try:
        body = loads(request.get_data(cache=True))
    except JsonTooDeep:
        raise ApiError(400, "The body is not valid JSON: it is nested too deeply.") from None
    except ValueError:  # not JSON, or not UTF-8
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "The body must be a JSON object.")
    problems = _unstorable(body)
    if problems:
        raise unprocessable(problems, noun)
