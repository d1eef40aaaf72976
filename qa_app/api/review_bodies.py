"""The body of POST /api/v1/reviews: its shape, and answers by criterion key checked one by one.

Every problem is collected, so that one 422 answer lists them all with the field they concern
(``answers.empathy``, ``comments.greeting``, ``conversation_id``).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request

from qa_app.api.errors import ApiError
from qa_app.reviews.answers import MAX_COMMENT_LENGTH, AnswerInput, normalise_value, to_answer
from qa_app.scorecards.models import Criterion, ScorecardVersion
from qa_app.scorecards.scoring import NA, AnswerError, CriterionKind
from qa_app.untrusted import MAX_ID, NUL_REASON, JsonTooDeep, is_id, loads, nul_paths

BODY_FIELDS = frozenset(
    {"conversation_id", "scorecard_id", "answers", "comments", "overall_comment", "submit"}
)


class Invalid(Exception):
    """The body has problems; each is (field, message)."""

    def __init__(self, problems: list[tuple[str | None, str]]) -> None:
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


def invalid_response(
    problems: list[tuple[str | None, str]], what: str = "review"
) -> tuple[Response, int]:
    """A 422 in the API's error shape, with every problem under ``errors``."""
    count = len(problems)
    message = (
        f"The {what} was not saved: {problems[0][1]}"
        if count == 1
        else f"The {what} was not saved: {count} problems, listed in 'errors'."
    )
    body = {
        "error": {
            "status": 422,
            "title": "Unprocessable content",
            "message": message,
            "errors": [{"field": field, "message": text} for field, text in problems],
        }
    }
    return jsonify(body), 422


def _unstorable(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Texts with NUL characters (anywhere, keys too) and ids no database row can have."""
    problems: list[tuple[str | None, str]] = [(path, NUL_REASON) for path in nul_paths(body)]
    for field, value in body.items():
        is_number = isinstance(value, int) and not isinstance(value, bool)
        if (field == "id" or field.endswith("_id")) and is_number and not is_id(value):
            problems.append((field, f"must be an id from 1 to {MAX_ID}"))
    return problems


def review_body(what: str = "review") -> dict[str, Any]:
    """The request's JSON object; 415 for another media type, 400 for anything but an object,
    422 (naming the fields) for texts holding a NUL character or ids out of range."""
    if request.mimetype != "application/json":
        raise ApiError(415, f"Send the {what} as JSON with Content-Type: application/json.")
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
        response, status = invalid_response(problems, what)
        response.status_code = status
        abort(response)
    return body


def check_shape(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    """Problems with the body's fields and their types, before any answer is looked at."""
    problems: list[tuple[str | None, str]] = [
        (field, "is not a field of a review") for field in sorted(set(body) - BODY_FIELDS)
    ]
    for field in ("conversation_id", "scorecard_id"):
        value = body.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append((field, "must be a whole number"))
    if body.get("conversation_id") is None:
        problems.append(("conversation_id", "is required"))
    for field in ("answers", "comments"):
        if not isinstance(body.get(field, {}), dict):
            problems.append((field, "must be an object keyed by criterion key"))
    if not isinstance(body.get("overall_comment", ""), str):
        problems.append(("overall_comment", "must be a string"))
    if not isinstance(body.get("submit", False), bool):
        problems.append(("submit", "must be true or false"))
    return problems


def _value(criterion: Criterion, raw: Any) -> tuple[str | None, str | None]:
    """(stored value, problem) for one answer from the body."""
    if raw is None:
        return None, None
    text = normalise_value(raw) if isinstance(raw, str) else None
    if text == NA or (criterion.kind == CriterionKind.YES_NO and text is not None):
        value = text
    elif criterion.kind != CriterionKind.YES_NO and type(raw) is int:
        value = str(raw)
    else:
        expected = '"yes" or "no"' if criterion.kind == CriterionKind.YES_NO else "a whole number"
        if criterion.allow_na:
            expected += ', or "na"'
        return None, f"must be {expected}"
    try:
        to_answer(criterion, value)
    except AnswerError as error:
        return None, str(error).split(": ", 1)[-1]
    return value, None


def read_answers(version: ScorecardVersion, body: dict[str, Any]) -> dict[int, AnswerInput]:
    """The body's answers and comments by criterion id; raises Invalid naming each problem."""
    criteria = {criterion.key: criterion for criterion in version.criteria}
    values: dict[str, Any] = body.get("answers") or {}
    comments: dict[str, Any] = body.get("comments") or {}
    problems: list[tuple[str | None, str]] = []
    result: dict[int, AnswerInput] = {}
    for key in sorted(set(values) | set(comments)):
        criterion = criteria.get(key)
        if criterion is None:
            field = f"answers.{key}" if key in values else f"comments.{key}"
            problems.append((field, "is not a criterion of this scorecard version"))
            continue
        value, problem = _value(criterion, values.get(key))
        if problem:
            problems.append((f"answers.{key}", problem))
        comment = comments.get(key, "")
        if not isinstance(comment, str) or len(comment) > MAX_COMMENT_LENGTH:
            limit = f"must be text of at most {MAX_COMMENT_LENGTH} characters"
            problems.append((f"comments.{key}", limit))
            continue
        result[criterion.id] = (value, comment)
    if problems:
        raise Invalid(problems)
    return result
