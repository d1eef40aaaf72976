"""The pydantic bases of every API model, the error shape, and the references answers share.

``Answer`` models describe what the API sends: every field is required (nullable ones are
``X | None`` and sent as null), and no other key is sent. ``Body`` models describe request
bodies: unknown fields are problems. Query models are in qa_app.api.params.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from flask import request, url_for
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_serializer,
)
from pydantic_core import PydanticCustomError

from qa_app.api.formats import Url
from qa_app.org.models import Agent, Partner, Team
from qa_app.pagination import MAX_PER_PAGE
from qa_app.untrusted import MAX_ID


def one_of_texts(*values: str, nullable: bool = False) -> WithJsonSchema:
    """Field metadata documenting a text field that holds one of ``values`` (or null)."""
    if nullable:
        return WithJsonSchema({"type": ["string", "null"], "enum": [*values, None]})
    return WithJsonSchema({"type": "string", "enum": list(values)})


JsonObject = dict[str, Any]


class Answer(BaseModel):
    """A JSON object the API answers with."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class SometimesAnswer(Answer):
    """An answer some of whose keys are sent only to some callers: the fields with a default
    are sent only when set (and are not required in the schema)."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=False)

    # Unannotated return on purpose: pydantic would document the annotation instead of the
    # model's own fields.
    @model_serializer(mode="wrap")
    def _set_keys_only(self, handler: SerializerFunctionWrapHandler):  # type: ignore[no-untyped-def]
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if key in self.model_fields_set}


class Body(BaseModel):
    """A JSON request body; ``noun`` names it in messages ("is not a field of a review")."""

    model_config = ConfigDict(extra="forbid")
    noun: ClassVar[str] = "request"


def invalid_as(message: str, *, null: str | None = None) -> WrapValidator:
    """Field metadata: any value the field's type refuses is a problem with this ``message``
    (and a null one with ``null``, when given: a required field sent as null)."""

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None and null is not None:
            raise PydanticCustomError("invalid", "{reason}", {"reason": null})
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError("invalid", "{reason}", {"reason": message}) from None

    return WrapValidator(check)


# Field types of bodies: JSON's own types only, never a string read as a number or a boolean.
IdField = Annotated[
    StrictInt, Field(ge=1, le=MAX_ID), invalid_as("must be a whole number", null="is required")
]
OptionalIdField = Annotated[StrictInt, Field(ge=1, le=MAX_ID), invalid_as("must be a whole number")]
FlagField = Annotated[StrictBool, invalid_as("must be true or false")]
TextField = Annotated[StrictStr, invalid_as("must be a string")]


# Errors -----------------------------------------------------------------------------------------


class Problem(BaseModel):
    """One validation problem; field is null when the object's state, not a field, is the
    problem."""

    model_config = ConfigDict(extra="forbid")
    field: str | None
    message: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: int = Field(description="The HTTP status, repeated.")
    title: str
    message: str
    errors: list[Problem] = Field(
        default_factory=list,
        description="Every problem (422 answers of bodies that failed validation only).",
    )


class Error(BaseModel):
    """The one error shape of the API (qa_app/api/errors.py)."""

    model_config = ConfigDict(extra="forbid")
    error: ErrorDetail


# References -------------------------------------------------------------------------------------


class AgentRef(Answer):
    id: int
    external_id: str | None
    name: str


class TeamRef(Answer):
    id: int
    name: str


class PartnerRef(Answer):
    id: int
    name: str


class PersonRef(Answer):
    """A user, by id and name."""

    id: int
    name: str


def agent_ref(agent: Agent | None) -> AgentRef | None:
    if agent is None:
        return None
    return AgentRef(id=agent.id, external_id=agent.external_id, name=agent.name)


def team_ref(team: Team | None) -> TeamRef | None:
    return None if team is None else TeamRef(id=team.id, name=team.name)


def partner_ref(partner: Partner | None) -> PartnerRef | None:
    return None if partner is None else PartnerRef(id=partner.id, name=partner.name)


class PageAnswer(Answer):
    """The fields of every paginated list; subclasses add their ``items``."""

    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=MAX_PER_PAGE)
    total: int = Field(ge=0)
    next: Url | None = Field(
        description="The next page with the same filters, or null on the last page."
    )


def next_page_url(endpoint: str, page: int, has_next: bool) -> str | None:
    """The URL of the next page with the request's own filters, or None on the last page."""
    if not has_next:
        return None
    # Keys starting with "_" would be read by url_for as options, not as query arguments.
    # Typed as url_for's own **values (Any): with list values, mypy would match them against
    # its _anchor, _method and _scheme options, which no key here can be.
    args: dict[str, Any] = {
        key: values for key, values in request.args.lists() if not key.startswith("_")
    }
    args["page"] = [str(page + 1)]
    return url_for(endpoint, **args, _external=True)
