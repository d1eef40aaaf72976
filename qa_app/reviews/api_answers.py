"""Answers and comments of an API body by criterion key, checked one by one against a version.

Every problem is collected, so that one 422 answer lists them all with the field they concern
(``answers.empathy``, ``comments.greeting``). Calibration ratings take their answers the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import WithJsonSchema

from qa_app.api.models import invalid_as
from qa_app.reviews.answers import MAX_COMMENT_LENGTH, AnswerInput, normalise_value, to_answer
from qa_app.scorecards.models import Criterion, ScorecardVersion
from qa_app.scorecards.scoring import NA, AnswerError, CriterionKind
from qa_app.service_errors import Invalid, Problem

KEYED = "must be an object keyed by criterion key"

# The body fields; their values are checked against the criteria (read_answers), not here.
AnswersField = Annotated[
    dict[str, Any],
    invalid_as(KEYED),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {"type": ["string", "integer", "null"]},
            "description": 'Answers by criterion key: "yes"/"no", a whole number, or "na".',
        }
    ),
]
CommentsField = Annotated[
    dict[str, Any],
    invalid_as(KEYED),
    WithJsonSchema(
        {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": MAX_COMMENT_LENGTH},
            "description": "Comments by criterion key.",
        }
    ),
]


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


def read_answers(
    version: ScorecardVersion, values: Mapping[str, Any], comments: Mapping[str, Any]
) -> dict[int, AnswerInput]:
    """The answers and comments by criterion id; raises Invalid naming each problem."""
    criteria = {criterion.key: criterion for criterion in version.criteria}
    problems: list[Problem] = []
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
        raise Invalid.of(problems)
    return result
