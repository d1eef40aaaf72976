"""Query parameters: pydantic field types with strict parsing, a bad value is a 400 naming the
parameter (qa_app.api.validation), never a guess.

An endpoint's query model subclasses ``Query`` (or ``PageQuery``) with fields of the types here;
each parses the parameter's text by our rules (booleans as true/false, 1/0, yes/no, on/off;
whole numbers within range; choices in any case; dates or date-times with offset) and documents
it in the OpenAPI document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from qa_app.pagination import MAX_PER_PAGE
from qa_app.untrusted import MAX_ID

TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off", ""})
DEFAULT_PER_PAGE = 50
MOMENT_EXAMPLES = ["2026-10-01", "2026-10-01T09:00:00Z"]
# An unencoded "+" in a query string arrives as a space: "...T09:00:00 02:00" means "+02:00".
_SPACE_FOR_PLUS = re.compile(r"(T[\d:.]+) (\d\d(?::?\d\d)?)$")


class BadParameter(ValueError):
    """A parameter's text that its type refuses; the message completes "Query parameter 'x' "."""


# Parsers: the parameter's text to its value ----------------------------------------------------


def text(raw: str) -> str | None:
    return raw.strip() or None


def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise BadParameter(f"must be true or false, got {raw!r}")


def whole_number(
    minimum: int = 1, maximum: int = MAX_ID, default: int | None = None
) -> Callable[[str], int | None]:
    """A whole number in range; at most ``MAX_ID`` by default, the largest id (or page) there
    can be. Empty text means ``default``."""

    def parse(raw: str) -> int | None:
        number = raw.strip()
        if not number:
            return default
        digits = number[1:] if number[:1] in ("+", "-") else number
        if not (digits.isascii() and digits.isdigit()):
            raise BadParameter(f"must be a whole number, got {raw!r}")
        if len(digits) > 30:  # int() of thousands of digits is slow, and refused past 4,300
            raise BadParameter(f"must be between {minimum} and {maximum}, got {len(digits)} digits")
        value = int(number)
        if value < minimum:
            raise BadParameter(f"must be at least {minimum}, got {value}")
        if value > maximum:
            raise BadParameter(f"must be at most {maximum}, got {value}")
        return value

    return parse


def number(minimum: float, maximum: float) -> Callable[[str], float | None]:
    def parse(raw: str) -> float | None:
        value = raw.strip()
        if not value:
            return None
        try:
            parsed = float(value)
        except ValueError:
            raise BadParameter(f"must be a number, got {raw!r}") from None
        if not minimum <= parsed <= maximum:
            raise BadParameter(f"must be between {minimum:g} and {maximum:g}, got {raw!r}")
        return parsed

    return parse


def choice(choices: Sequence[str]) -> Callable[[str], str | None]:
    def parse(raw: str) -> str | None:
        value = raw.strip()
        if not value:
            return None
        if value.lower() not in choices:
            raise BadParameter(f"must be one of {', '.join(choices)}, got {value!r}")
        return value.lower()

    return parse


def moment(*, end_of_day: bool = False) -> Callable[[str], datetime | None]:
    """An ISO 8601 date-time with offset, or a date meaning midnight UTC.

    With ``end_of_day`` a date means the following midnight, so that an exclusive upper bound
    ``to=2026-10-01`` still covers the whole of that day.
    """

    def parse(raw: str) -> datetime | None:
        value = raw.strip()
        if not value:
            return None
        if len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise BadParameter(
                    f"must be a date (YYYY-MM-DD) or a date-time, got {value!r}"
                ) from None
            if end_of_day:
                if day == date.max:
                    return None  # no time is after the end of the last day
                day += timedelta(days=1)
            return datetime.combine(day, time.min, tzinfo=UTC)
        try:
            parsed = datetime.fromisoformat(_SPACE_FOR_PLUS.sub(r"\1+\2", value))
        except ValueError:
            raise BadParameter(
                f"must be an ISO 8601 date-time such as 2026-10-01T09:00:00Z, got {value!r}"
            ) from None
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise BadParameter(f"must include a UTC offset such as Z or +02:00, got {value!r}")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            raise BadParameter(f"is out of range once converted to UTC, got {value!r}") from None

    return parse


# The field types ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parsed:
    """Field metadata: parse the parameter's text with ``parse`` before the field's type checks
    it; document it as ``schema``, or as the field's type (not nullable: an absent parameter
    is no null)."""

    parse: Callable[[str], Any]
    schema: JsonSchemaValue | None = None

    def _validate(self, raw: Any) -> Any:
        if isinstance(raw, list):  # a repeated parameter: the first counts, as in Flask's .get
            raw = raw[0] if raw else ""
        if not isinstance(raw, str):
            return raw
        try:
            return self.parse(raw)
        except BadParameter as error:
            raise PydanticCustomError(
                "query_parameter", "{reason}", {"reason": str(error)}
            ) from None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        if self.schema is not None:
            return dict(self.schema)
        documented = handler(schema)
        options = documented.get("anyOf", [])
        if len(options) == 2 and {"type": "null"} in options:
            [documented] = [option for option in options if option != {"type": "null"}]
        return documented


def _lowered(per_page: str) -> int | None:
    value = whole_number(default=DEFAULT_PER_PAGE)(per_page)
    return None if value is None else min(value, MAX_PER_PAGE)


Text = Annotated[str | None, Parsed(text)]
Flag = Annotated[bool, Parsed(boolean)]
Id = Annotated[int | None, Parsed(whole_number())]
Score = Annotated[
    float | None, Parsed(number(0, 100), {"type": "number", "minimum": 0, "maximum": 100})
]
Since = Annotated[
    datetime | None, Parsed(moment(), {"type": "string", "examples": MOMENT_EXAMPLES})
]
Until = Annotated[
    datetime | None,
    Parsed(moment(end_of_day=True), {"type": "string", "examples": MOMENT_EXAMPLES}),
]


def one_of(choices: Sequence[str]) -> Parsed:
    """Metadata for a text field that takes one of ``choices``, in any case."""
    return Parsed(choice(choices), {"type": "string", "enum": list(choices)})


def one_of_enum(choices: Sequence[str]) -> Parsed:
    """Metadata for an enum field (documented by its enum) that takes its values in any case."""
    return Parsed(choice(choices))


def _without_null_defaults(schema: dict[str, Any]) -> None:
    # An absent parameter is absent, not null: its schema does not allow null.
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class Query(BaseModel):
    """The query parameters of an endpoint; parameters it does not name are ignored."""

    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, json_schema_extra=_without_null_defaults
    )


class PageQuery(Query):
    """The query of a paginated list."""

    page: Annotated[int, Parsed(whole_number(default=1))] = Field(
        1, description="Page number, from 1."
    )
    per_page: Annotated[int, Parsed(_lowered)] = Field(
        DEFAULT_PER_PAGE,
        description=f"Items per page; values over {MAX_PER_PAGE} are lowered to {MAX_PER_PAGE}.",
    )
