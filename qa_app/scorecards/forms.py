"""Forms of the scorecard builder; the services check the rules, the forms the types."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    FloatField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from qa_app.forms import Form, choices
from qa_app.scorecards.scoring import CriterionKind, Critical
from qa_app.scorecards.validation import (
    CRITICAL_LABELS,
    KIND_LABELS,
    MAX_KEY_LENGTH,
    MAX_POINTS,
    MAX_SCALE,
    MAX_SECTION_TITLE_LENGTH,
    MAX_TITLE_LENGTH,
    MAX_WEIGHT,
    MIN_SCALE,
    CriterionSpec,
)


class ScorecardForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(
        "Description",
        validators=[Optional(), Length(max=2000)],
        description="What the scorecard is for; shown on its page.",
    )
    submit = SubmitField("Save")


class SectionForm(Form):
    title = StringField("Title", validators=[DataRequired(), Length(max=MAX_SECTION_TITLE_LENGTH)])
    submit = SubmitField("Save section")


class CriterionForm(Form):
    section_id = SelectField("Section", coerce=int)
    title = StringField("Title", validators=[DataRequired(), Length(max=MAX_TITLE_LENGTH)])
    key = StringField(
        "Key",
        validators=[Optional(), Length(max=MAX_KEY_LENGTH)],
        description=(
            "A stable id such as empathy, kept across versions so answers stay comparable."
            " Leave blank to make one from the title; keep it when you only reword."
        ),
    )
    guidance = TextAreaField(
        "Guidance",
        validators=[Optional(), Length(max=5000)],
        description="What earns each answer, with examples; reviewers and agents read it.",
        render_kw={"rows": 6},
    )
    kind = SelectField(
        "Type",
        choices=choices((kind.value, label) for kind, label in KIND_LABELS.items()),
        default=CriterionKind.YES_NO.value,
    )
    weight = FloatField(
        "Weight",
        default=1.0,
        validators=[InputRequired()],
        description=(
            "How much the criterion counts relative to the others"
            f" (more than 0, at most {MAX_WEIGHT:g})."
        ),
    )
    allow_na = BooleanField("N/A allowed (leaves the criterion out of the score)")
    critical = SelectField(
        "Critical",
        choices=choices((critical.value, label) for critical, label in CRITICAL_LABELS.items()),
        default=Critical.NO.value,
        description="A critical criterion fails on its lowest answer: no, rating 1, or 0 points.",
    )
    scale_max = IntegerField(
        "Scale points",
        default=5,
        validators=[Optional()],
        description=f"Rating scales only: ratings from 1 to this ({MIN_SCALE}-{MAX_SCALE}).",
    )
    scale_labels = TextAreaField(
        "Scale labels",
        validators=[Optional(), Length(max=2000)],
        description="Rating scales only: one label per line, from 1 upwards; or none.",
        render_kw={"rows": 5},
    )
    max_points = IntegerField(
        "Maximum points",
        default=1,
        validators=[Optional()],
        description=f"Points criteria only: answers from 0 to this (1-{MAX_POINTS}).",
    )
    submit = SubmitField("Save criterion")

    def spec(self) -> CriterionSpec:
        labels = (self.scale_labels.data or "").splitlines()
        return CriterionSpec(
            title=self.title.data or "",
            key=self.key.data or "",
            guidance=self.guidance.data or "",
            kind=CriterionKind(self.kind.data),
            weight=float(self.weight.data or 0),
            allow_na=bool(self.allow_na.data),
            scale_max=self.scale_max.data or 5,
            scale_labels=tuple(label for label in labels if label.strip()),
            max_points=self.max_points.data or 1,
            critical=Critical(self.critical.data),
        )

    def load(self, spec: CriterionSpec) -> None:
        """Fill the fields from a saved criterion (GET)."""
        self.title.data = spec.title
        self.key.data = spec.key
        self.guidance.data = spec.guidance
        self.kind.data = spec.kind.value
        self.weight.data = spec.weight
        self.allow_na.data = spec.allow_na
        self.scale_max.data = spec.scale_max
        self.scale_labels.data = "\n".join(spec.scale_labels)
        self.max_points.data = spec.max_points
        self.critical.data = spec.critical.value


class TargetsForm(Form):
    team_ids = SelectMultipleField(
        "Teams",
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="None ticked: every team.",
    )
    channels = SelectMultipleField(
        "Channels",
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="None ticked: every channel.",
    )
    submit = SubmitField("Save targets")


class PublishForm(Form):
    change_note = TextAreaField(
        "Change note",
        validators=[Optional(), Length(max=2000)],
        description="What changed and why; shown in the version history.",
        render_kw={"rows": 3},
    )
    submit = SubmitField("Publish")
