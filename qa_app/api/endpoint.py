"""``endpoint``: one declaration per API view of who may call it, what it takes and answers.

The view's parameters ``query: SomeQuery`` and ``json: SomeBody`` name its pydantic models
(spectree validates the request against them and passes the instances in); ``answers`` maps
each success status to its answer model, ``errors`` lists the error statuses it may answer
besides those that come with the declaration (401 always; 400 with a query model; 400, 415 and
422 with a body). The same declaration writes the view into the OpenAPI document (qa_app.api.spec).

A request passes, in order: the bearer token and role (401, 403), the body's JSON checks
(415, 400, 422), the models (400 for the query, 422 for the body), then the view. A service
refusal (qa_app.service_errors) raised by the view is answered by its kind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, ParamSpec, cast, get_type_hints

from flask.typing import ResponseReturnValue
from pydantic import BaseModel, ValidationError
from spectree import Response as Answers

from qa_app.api.auth import api_roles
from qa_app.api.errors import from_service, unprocessable
from qa_app.api.models import Body, Error
from qa_app.api.spec import EXTRAS, STATUSES, spec
from qa_app.api.validation import body_problems, check_json_object, query_error
from qa_app.db import get_session
from qa_app.org.roles import Role
from qa_app.service_errors import ServiceError

P = ParamSpec("P")
View = Callable[..., Any]
AnswerModel = type[BaseModel] | tuple[type[BaseModel] | None, str]

ERROR_DESCRIPTIONS = {
    400: "A bad query parameter (the message names it) or an unreadable body.",
    401: "No usable bearer token.",
    403: "The token's role may not do this.",
    404: "No such object, or one outside the user's scope.",
    409: "The object's state does not allow this now.",
    411: "A body of unknown length.",
    413: "A body over the size limits.",
    415: "An unsupported Content-Type, charset or Content-Encoding.",
    422: "The body failed validation; nothing was saved. Every problem is under error.errors.",
}


def _request_models(view: Callable[..., Any]) -> tuple[Any, Any]:
    hints = get_type_hints(view)
    return hints.get("query"), hints.get("json")


def _validation_hook(query_model: Any, noun: str) -> Callable[..., None]:
    """Answer spectree's validation failures in the API's shape (spectree's ``before``)."""

    def before(request: Any, response: Any, error: Exception | None, *_: Any) -> None:
        if error is None:
            return
        assert isinstance(error, ValidationError)
        if query_model is not None and error.title == query_model.__name__:
            raise query_error(error)
        raise unprocessable(body_problems(error, noun), noun)

    return before


class AnswerMismatch(RuntimeError):
    """A view's answer does not fit its declared model: a bug, answered as any other (500)."""


def _check_answer(request: Any, response: Any, error: Exception | None, *_: Any) -> None:
    """spectree's ``after``: instead of its 500 listing pydantic's errors (and the values that
    failed), fail like any other server error, logged, with the API's own 500 answer."""
    if error is not None:
        raise AnswerMismatch(f"{request.method} {request.path}: {error}") from error


def _answering_refusals(view: View, noun: str) -> View:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ServiceError as error:
            get_session().rollback()  # nothing of a refused change is kept
            raise from_service(error, noun) from None

    return wrapped


def _checking_json(view: View, noun: str) -> View:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        check_json_object(noun)
        return view(*args, **kwargs)

    return wrapped


def _path_descriptions(view: Callable[..., Any]) -> dict[str, str]:
    names = [name for name in get_type_hints(view) if name not in ("query", "json", "return")]
    return {name: f"The {name.removesuffix('_id').replace('_', ' ')}'s id." for name in names}


def endpoint(
    roles: Role | Iterable[Role] | None,
    *,
    operation_id: str,
    tag: str,
    answers: Mapping[int, AnswerModel],
    errors: Iterable[int] = (),
    extra: dict[str, Any] | None = None,
    path_descriptions: Mapping[str, str] | None = None,
) -> Callable[[Callable[P, Any]], Callable[P, ResponseReturnValue]]:
    """Declare an API view; ``roles`` None makes it public (no token).

    The view returns its answer model (or a tuple with the status and headers, as Flask views
    do); the declaration turns it into the JSON response.
    """

    def decorator(view: Callable[P, Any]) -> Callable[P, ResponseReturnValue]:
        query_model, json_model = _request_models(view)
        is_body = isinstance(json_model, type) and issubclass(json_model, Body)
        noun = json_model.noun if is_body else "request"
        statuses = set(errors) | ({401} if roles is not None else set())
        if query_model is not None:
            statuses.add(400)
        if json_model is not None:
            statuses |= {400, 415, 422}
        declared: dict[str, Any] = {f"HTTP_{code}": model for code, model in answers.items()}
        for code in sorted(statuses - set(answers)):
            declared[f"HTTP_{code}"] = (Error, ERROR_DESCRIPTIONS[code])
        # The status of spectree's own validation answers, never sent: the hook answers first.
        error_status = 422 if json_model is not None else 400
        validated = spec.validate(
            resp=Answers(**declared),
            tags=[tag],
            operation_id=operation_id,
            security={} if roles is None else None,
            before=_validation_hook(query_model, noun),
            after=_check_answer,
            validation_error_status=error_status,
            path_parameter_descriptions={**_path_descriptions(view), **(path_descriptions or {})},
        )(view)
        guarded = _answering_refusals(validated, noun)
        if json_model is not None:
            guarded = _checking_json(guarded, noun)
        STATUSES[operation_id] = statuses | set(answers)
        if extra:
            EXTRAS[operation_id] = extra
        answering = guarded if roles is None else api_roles(roles)(guarded)
        return cast(Callable[P, ResponseReturnValue], answering)

    return decorator
