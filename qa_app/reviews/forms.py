"""Forms for scoring, disputing and resolving reviews, and for the list and advisor filters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from wtforms import (
    DateField,
    DecimalField,
    Field,
    Form,
    RadioField,
    SelectField,
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

from qa_app.forms import Form as AppForm
from qa_app.forms import choices
from qa_app.reviews.answers import MAX_COMMENT_LENGTH, AnswerInput
from qa_app.reviews.models import ReviewStatus
from qa_app.scorecards.models import Criterion
from qa_app.scorecards.scoring import NA, CriterionKind

ANY = ""


def answer_choices(criterion: Criterion) -> list[tuple[str, str]]:
    """The allowed answers of a criterion as (value, label) pairs, N/A last if allowed."""
    if criterion.kind == CriterionKind.YES_NO:
        options = [("yes", "Yes"), ("no", "No")]
    elif criterion.kind == CriterionKind.SCALE:
        labels = list(criterion.scale_labels or [])
        options = []
        for rating in range(1, criterion.scale_max + 1):
            label = labels[rating - 1] if rating - 1 < len(labels) and labels[rating - 1] else ""
            options.append((str(rating), f"{rating} · {label}" if label else str(rating)))
    else:
        options = [
            (str(points), f"{points} of {criterion.max_points}")
            for points in range(criterion.max_points + 1)
        ]
    if criterion.allow_na:
        options.append((NA, "N/A"))
    return options


def _answer_field(criterion: Criterion) -> Field:
    options = answer_choices(criterion)
    if criterion.kind == CriterionKind.POINTS:
        return SelectField(
            criterion.title,
            choices=choices([(ANY, "Not answered yet"), *options]),
            validators=[Optional()],
        )
    return RadioField(criterion.title, choices=choices(options), validators=[Optional()])


class ScoringForm(AppForm):
    """The answers to a scorecard version; built per version by ``scoring_form``."""

    overall_comment = TextAreaField(
        "Overall comment", validators=[Optional(), Length(max=MAX_COMMENT_LENGTH)]
    )
    save = SubmitField("Save draft")
    submit = SubmitField("Submit review")

    criterion_ids: Sequence[int] = ()

    def answer_field(self, criterion_id: int) -> Field:
        return self[f"answer_{criterion_id}"]

    def comment_field(self, criterion_id: int) -> Field:
        return self[f"comment_{criterion_id}"]

    def answers(self) -> dict[int, AnswerInput]:
        """What the reviewer entered, in the shape the services take."""
        return {
            criterion_id: (
                self.answer_field(criterion_id).data or None,
                self.comment_field(criterion_id).data or "",
            )
            for criterion_id in self.criterion_ids
        }

    def fill(self, values: Mapping[int, tuple[str | None, str]], overall_comment: str) -> None:
        """Prefill from stored answers (on GET)."""
        for criterion_id in self.criterion_ids:
            value, comment = values.get(criterion_id, (None, ""))
            self.answer_field(criterion_id).data = value or ANY
            self.comment_field(criterion_id).data = comment
        if "overall_comment" in self._fields:
            self.overall_comment.data = overall_comment

    def mark_missing(self, criterion_ids: Sequence[int], message: str) -> None:
        for criterion_id in criterion_ids:
            if criterion_id in self.criterion_ids:
                self.answer_field(criterion_id).errors = [message]


class RescoreForm(ScoringForm):
    """Re-scoring a disputed review: new answers and the note to the agent."""

    overall_comment = None  # type: ignore[assignment]  # a re-score keeps the overall comment
    save = None  # type: ignore[assignment]
    submit = SubmitField("Re-score")
    note = TextAreaField(
        "Note to the agent",
        validators=[DataRequired(message="Explain the decision."), Length(max=MAX_COMMENT_LENGTH)],
    )


def scoring_form(
    criteria: Sequence[Criterion], base: type[ScoringForm] = ScoringForm, **kwargs: Any
) -> ScoringForm:
    """A form with an answer and a comment field per criterion of a scorecard version."""

    class VersionForm(base):  # type: ignore[valid-type,misc]
        pass

    for criterion in criteria:
        setattr(VersionForm, f"answer_{criterion.id}", _answer_field(criterion))
        setattr(
            VersionForm,
            f"comment_{criterion.id}",
            TextAreaField(
                f"Comment on {criterion.title}",
                validators=[Optional(), Length(max=MAX_COMMENT_LENGTH)],
            ),
        )
    VersionForm.criterion_ids = tuple(criterion.id for criterion in criteria)
    form: ScoringForm = VersionForm(**kwargs)
    return form


class StartReviewForm(AppForm):
    scorecard_id = SelectField("Scorecard", coerce=int, validators=[InputRequired()])
    submit = SubmitField("Start review")


class DisputeForm(AppForm):
    reason = TextAreaField(
        "Why do you disagree with this review?",
        validators=[
            DataRequired(message="Give a reason for the dispute."),
            Length(max=MAX_COMMENT_LENGTH),
        ],
        description="Name the criteria you disagree with and what the transcript shows.",
    )
    submit = SubmitField("Send dispute")


class UpholdForm(AppForm):
    note = TextAreaField(
        "Note to the agent",
        validators=[DataRequired(message="Explain the decision."), Length(max=MAX_COMMENT_LENGTH)],
    )
    submit = SubmitField("Uphold the review")


class ReviewFilterForm(Form):
    """The filters of the reviews list, read from the query string (no CSRF: a GET form)."""

    agent = SelectField("Agent", coerce=str, validators=[Optional()])
    team = SelectField("Team", coerce=str, validators=[Optional()])
    status = SelectField("Status", coerce=str, validators=[Optional()])
    submitted_from = DateField("Submitted from", validators=[Optional()])
    submitted_to = DateField("Submitted to", validators=[Optional()])
    score_min = DecimalField(
        "Score from", places=None, validators=[Optional(), NumberRange(min=0, max=100)]
    )
    score_max = DecimalField(
        "Score to", places=None, validators=[Optional(), NumberRange(min=0, max=100)]
    )

    def set_choices(
        self, agents: Sequence[tuple[int, str]], teams: Sequence[tuple[int, str]]
    ) -> None:
        self.agent.choices = choices([(ANY, "All agents")] + [(str(i), n) for i, n in agents])
        self.team.choices = choices([(ANY, "All teams")] + [(str(i), n) for i, n in teams])
        self.status.choices = choices(
            [(ANY, "Any status")] + [(status.value, status.value) for status in ReviewStatus]
        )

    def validate_submitted_to(self, field: Field) -> None:
        start = self.submitted_from.data
        if start and field.data and field.data < start:
            raise ValidationError("The end date is before the start date.")

    def validate_score_max(self, field: Field) -> None:
        low = self.score_min.data
        if low is not None and field.data is not None and field.data < low:
            raise ValidationError("The upper score is below the lower one.")


MARGINS = (1, 2, 3, 5, 10, 15)
CONFIDENCES = (("0.8", "80 %"), ("0.9", "90 %"), ("0.95", "95 %"), ("0.99", "99 %"))
WINDOWS = ((3, "3 months"), (6, "6 months"), (12, "12 months"))


class AdvisorForm(Form):
    """The precision a manager wants: +- margin points at a confidence, from a window of data."""

    margin = DecimalField(
        "Margin (± points)",
        default=Decimal(5),
        places=None,
        validators=[DataRequired(), NumberRange(min=0.5, max=50)],
        description="How close to the true mean an agent's monthly score should be.",
    )
    confidence = SelectField(
        "Confidence", choices=choices(CONFIDENCES), default="0.95", validators=[DataRequired()]
    )
    months = SelectField(
        "Variance from the last",
        coerce=int,
        choices=choices(WINDOWS),
        default=6,
        validators=[DataRequired()],
    )
