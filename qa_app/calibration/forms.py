"""Forms for creating calibration sessions, rating blind, recording benchmarks and discussing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    Field,
    FloatField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from qa_app.auth.models import User
from qa_app.calibration.models import DEFAULT_TOLERANCE
from qa_app.calibration.services import MAX_ITEMS, MAX_NOTE, MAX_TITLE
from qa_app.forms import Form, SelectChoice, choices, required_data
from qa_app.reviews.answers import MAX_COMMENT_LENGTH
from qa_app.reviews.forms import ScoringForm
from qa_app.sampling.services import MAX_SEED, new_seed
from qa_app.scorecards.models import Criterion
from qa_app.untrusted import parse_id

PICKED = "ids"
SAMPLED = "sample"
NONE = ""
DEFAULT_DUE_DAYS = 14
_SEPARATORS = re.compile(r"[\s,;]+")


def optional_int(value: object) -> int | None:
    if value is None or value == "":
        return None
    return int(str(value))


def parse_ids(text: str | None) -> list[int]:
    """Conversation ids typed or pasted: separated by commas or whitespace, ``#`` optional."""
    ids = []
    for token in _SEPARATORS.split((text or "").strip()):
        if not token:
            continue
        found = parse_id(token.removeprefix("#"))
        if found is None:
            raise ValueError(f"“{token}” is not a conversation id: use numbers such as 42.")
        ids.append(found)
    return ids


def rater_choices(raters: Sequence[User]) -> list[SelectChoice]:
    """Eligible raters grouped into in-house and one group per partner."""
    options = choices((rater.id, f"{rater.name} · {rater.role.label}") for rater in raters)
    groups = [f"Partner: {rater.partner.name}" if rater.partner else "In-house" for rater in raters]
    return [
        SelectChoice.from_input(option, group)
        for option, group in zip(options, groups, strict=True)
    ]


class SessionForm(Form):
    title = StringField(
        "Title", validators=[DataRequired("Give the session a title."), Length(max=MAX_TITLE)]
    )
    instructions = TextAreaField(
        "Instructions for the raters",
        validators=[Optional(), Length(max=MAX_COMMENT_LENGTH)],
        description="What to look out for; raters see this beside every conversation.",
    )
    scorecard_version_id = SelectField(
        "Scorecard version",
        coerce=optional_int,
        validators=[DataRequired("Choose a published scorecard version.")],
    )
    rater_ids = SelectMultipleField(
        "Raters",
        coerce=int,
        description="In-house QA, partner QA and managers; at least two. With partner raters "
        "of one partner, that partner's conversations may be used; with several partners, "
        "only in-house conversations.",
    )
    due_on = DateField(
        "Due date",
        validators=[DataRequired("Choose the due date.")],
        default=lambda: datetime.now(UTC).date() + timedelta(days=DEFAULT_DUE_DAYS),
        description="Raters score until the end of this day (UTC).",
    )
    tolerance = FloatField(
        "Tolerance (points)",
        default=DEFAULT_TOLERANCE,
        validators=[InputRequired(), NumberRange(min=0, max=100)],
        description="A rater within this many points of the benchmark's score matches it.",
    )
    source = RadioField(
        "Conversations",
        choices=choices(
            [(PICKED, "The conversations I list"), (SAMPLED, "A random sample of a period")]
        ),
        default=PICKED,
    )
    conversation_ids = TextAreaField(
        "Conversation ids",
        validators=[Length(max=2000)],
        description=f"Up to {MAX_ITEMS}, separated by commas, spaces or new lines.",
    )
    sample_size = IntegerField(
        "Sample size",
        default=5,
        validators=[Optional(), NumberRange(min=1, max=MAX_ITEMS)],
    )
    period = StringField(
        "Period",
        validators=[Length(max=20)],
        description="A month (2026-11) or an ISO week (2026-W47).",
    )
    seed = IntegerField(
        "Seed",
        default=new_seed,
        validators=[Optional(), NumberRange(min=0, max=MAX_SEED)],
        description="The same seed, data and period always give the same sample.",
    )
    submit = SubmitField("Create session")

    def validate_conversation_ids(self, field: Field) -> None:
        if self.source.data != PICKED:
            return
        try:
            ids = parse_ids(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from None
        if not ids:
            raise ValidationError("List the conversations by id.")

    def validate_period(self, field: Field) -> None:
        if self.source.data == SAMPLED and not (field.data or "").strip():
            raise ValidationError("Which period? A month (2026-11) or an ISO week (2026-W47).")

    def validate_due_on(self, field: Field) -> None:
        if field.data and field.data < datetime.now(UTC).date():
            raise ValidationError("The due date is in the past.")

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        valid = super().validate(extra_validators)
        if self.source.data != SAMPLED:
            return valid
        # Optional() ends the checks of an empty number, so "required when sampling" is here.
        for field, message in (
            (self.sample_size, "How many conversations?"),
            (self.seed, "Give a seed."),
        ):
            if field.data is None and not field.errors:
                field.errors = [*field.errors, message]
                valid = False
        return valid

    def due_at(self) -> datetime:
        day: date = required_data(self.due_on.data)  # DataRequired
        return datetime.combine(day, time(23, 59, 59), UTC)

    def picked_ids(self) -> list[int]:
        return parse_ids(self.conversation_ids.data)


class RatingForm(ScoringForm):
    """A rater's answers to one conversation; built per version with ``scoring_form``."""

    submit = SubmitField("Submit rating")


class BenchmarkForm(ScoringForm):
    """The benchmark answers of one conversation: every criterion answered."""

    save = None  # type: ignore[assignment]  # a benchmark is complete or not recorded
    submit = SubmitField("Save benchmark")


class NoteForm(Form):
    body = TextAreaField(
        "Note",
        validators=[DataRequired("Write the note first."), Length(max=MAX_NOTE)],
    )
    conversation_id = SelectField("On conversation", coerce=optional_int)
    criterion_id = SelectField("On criterion", coerce=optional_int)
    is_decision = BooleanField(
        "Decision",
        description="Settles how the criterion is read; it can be copied into the "
        "criterion's guidance in the scorecard's next draft.",
    )
    submit = SubmitField("Add note")

    def set_choices(
        self, conversations: Sequence[tuple[int, str]], criteria: Sequence[Criterion]
    ) -> None:
        self.conversation_id.choices = choices([(NONE, "The whole session"), *conversations])
        self.criterion_id.choices = choices(
            [(NONE, "No particular criterion")]
            + [(criterion.id, criterion.title) for criterion in criteria]
        )
