"""Small helpers shared by every feature's forms, and the base class of every form."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from flask_wtf import FlaskForm
from wtforms import Field, FieldList, FormField, SubmitField

# types-WTForms (3.2.1, its newest release) predates WTForms 3.3, which the app needs: the stubs
# know no SelectChoice (so it is Any here, and every choices= accepts it) and no SelectField
# invalid_choice_message / invalid_value_message. Each "WTForms 3.3" ignore in qa_app is one of
# these gaps; warn_unused_ignores points them out once the stubs catch up.
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3

from qa_app.untrusted import NUL

NUL_MESSAGE = "must not contain NUL characters"
T = TypeVar("T")


def choices(pairs: Iterable[tuple[Any, str]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into the SelectChoice objects WTForms 3.3+ expects."""
    return [SelectChoice(value, label) for value, label in pairs]


def add_error(field: Field, message: str) -> None:
    """Add an error to a field after validation (a new list: the stubs type errors as Sequence)."""
    field.errors = [*field.errors, message]


def required_data(data: T | None) -> T:
    """A field's data that the form's validation has made required, without its None.

    WTForms types every field's data as optional; after a successful validate() a required
    field has its value, so None here is a bug of the caller, not a user's input.
    """
    if data is None:
        raise ValueError("a required field has no data: was the form validated?")
    return data


def _leaf_fields(fields: Iterable[Field]) -> Iterator[Field]:
    for field in fields:
        if isinstance(field, FormField):
            yield from _leaf_fields(field.form)
        elif isinstance(field, FieldList):
            yield from _leaf_fields(field.entries)
        else:
            yield field


def _holds_nul(field: Field) -> bool:
    values = [*(getattr(field, "raw_data", None) or ()), field.data]
    return any(isinstance(value, str) and NUL in value for value in values)


class Form(FlaskForm):
    """Every form of the app: a text holding a NUL character (which PostgreSQL cannot store)
    is an error of its field, on every database, like any other invalid input."""

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        for field in _leaf_fields(self):
            if _holds_nul(field):
                field.errors = [*field.errors, NUL_MESSAGE]
                valid = False
        return valid


class EmptyForm(Form):
    """For button-only POSTs: it carries the CSRF token and nothing else."""

    submit = SubmitField("Confirm")
