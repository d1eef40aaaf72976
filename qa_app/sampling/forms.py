"""Forms for sampling plans, previews and runs, and for managing review assignments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from qa_app.conversations.field_checks import normalise_tags
from qa_app.conversations.records import CHANNELS
from qa_app.forms import Form, add_error, choices
from qa_app.sampling.models import AssignmentStatus, SamplingPlan, Strategy
from qa_app.sampling.options import (
    MAX_HANDLE_SECONDS,
    MAX_PER_AGENT,
    MAX_RISK_WEIGHT,
    MAX_SAMPLE_SIZE,
    MAX_WINDOW_DAYS,
    RISK_DEFAULTS,
    STRATEGY_LABELS,
    STRATIFY_BY,
)
from qa_app.sampling.services import (
    MAX_DUE_DAYS,
    MAX_NAME_LENGTH,
    MAX_SEED,
    MAX_SKIP_REASON_LENGTH,
    PlanInput,
)

SIZED = (Strategy.UNIFORM, Strategy.STRATIFIED, Strategy.RISK)
MAX_HANDLE_MINUTES = MAX_HANDLE_SECONDS // 60
STATUS_LABELS = {
    AssignmentStatus.OPEN: "Open",
    AssignmentStatus.IN_PROGRESS: "In progress",
    AssignmentStatus.DONE: "Done",
    AssignmentStatus.SKIPPED: "Skipped",
}
UNASSIGNED = "none"  # the reviewer filter value for assignments without a reviewer


def optional_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    return int(value)


def _tags_text(tags: Any) -> str:
    return ", ".join(tags or [])


def _split_tags(text: str | None) -> list[str]:
    return list(normalise_tags((text or "").split(",")))


def _weight_field(label: str, key: str) -> FloatField:
    return FloatField(
        label,
        validators=[InputRequired(), NumberRange(min=0, max=MAX_RISK_WEIGHT)],
        default=RISK_DEFAULTS[key],
    )


def _csat_field(label: str) -> SelectField:
    return SelectField(
        label,
        coerce=optional_int,
        choices=choices([("", "Any"), *((score, str(score)) for score in range(1, 6))]),
        default="",
    )


class PlanForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=MAX_NAME_LENGTH)])
    scorecard_id = SelectField(
        "Scorecard",
        coerce=optional_int,
        validators=[DataRequired("Choose a scorecard.")],
        description="Reviews of the plan's assignments use it.",
    )
    strategy = SelectField(
        "Strategy",
        choices=choices(
            (strategy.value, label.capitalize()) for strategy, label in STRATEGY_LABELS.items()
        ),
        default=Strategy.UNIFORM.value,
    )
    size = IntegerField(
        "Sample size per period",
        validators=[Optional(), NumberRange(min=1, max=MAX_SAMPLE_SIZE)],
        description="For uniform, proportional stratified and risk-weighted plans.",
    )
    per_agent = IntegerField(
        "Conversations per agent per period",
        validators=[Optional(), NumberRange(min=1, max=MAX_PER_AGENT)],
        description="For quota-per-agent plans; agents with fewer give all they have.",
    )
    stratify_by = SelectField(
        "Stratify by",
        choices=choices(STRATIFY_BY.items()),
        default="team",
        description="For proportional stratified plans.",
    )
    low_csat_max = IntegerField(
        "Low CSAT is at most",
        validators=[InputRequired(), NumberRange(min=1, max=5)],
        default=RISK_DEFAULTS["low_csat_max"],
    )
    weight_low_csat = _weight_field("Extra weight for low CSAT", "weight_low_csat")
    long_handle_minutes = IntegerField(
        "Long handle time (minutes)",
        validators=[InputRequired(), NumberRange(min=1, max=MAX_HANDLE_MINUTES)],
        default=RISK_DEFAULTS["long_handle_seconds"] // 60,
        description="Handle times at least this long count as long.",
    )
    weight_long_handle = _weight_field("Extra weight for a long handle time", "weight_long_handle")
    escalation_tags = StringField(
        "Escalation tags",
        validators=[Length(max=1000)],
        default=_tags_text(RISK_DEFAULTS["escalation_tags"]),
        description="Separate with commas.",
    )
    weight_escalation = _weight_field("Extra weight for an escalation", "weight_escalation")
    reopen_tags = StringField(
        "Reopen tags",
        validators=[Length(max=1000)],
        default=_tags_text(RISK_DEFAULTS["reopen_tags"]),
        description="Separate with commas.",
    )
    weight_reopen = _weight_field("Extra weight for a reopen", "weight_reopen")

    partner_ids = SelectMultipleField("Partners", coerce=int, description="Any if none chosen.")
    team_ids = SelectMultipleField("Teams", coerce=int, description="Any if none chosen.")
    agent_ids = SelectMultipleField("Agents", coerce=int, description="Any if none chosen.")
    channels = SelectMultipleField(
        "Channels",
        choices=choices((channel, channel) for channel in CHANNELS),
        description="Any if none chosen.",
    )
    window_days = IntegerField(
        "Date window (days)",
        validators=[Optional(), NumberRange(min=1, max=MAX_WINDOW_DAYS)],
        description="Conversations started in this many days before the period ends. "
        "Empty: those started in the period.",
    )
    csat_min = _csat_field("CSAT from")
    csat_max = _csat_field("CSAT to")
    include_unrated = BooleanField("With a CSAT range, also take conversations without CSAT")
    tags = StringField(
        "Tagged with any of",
        validators=[Length(max=2000)],
        description="Separate with commas. Empty: any tags.",
    )
    min_handle_minutes = IntegerField(
        "Handle time at least (minutes)",
        validators=[Optional(), NumberRange(min=1, max=MAX_HANDLE_MINUTES)],
    )

    seed = IntegerField(
        "Seed",
        validators=[InputRequired(), NumberRange(min=0, max=MAX_SEED)],
        description="The same seed, data and period always give the same sample.",
    )
    reviewer_ids = SelectMultipleField(
        "Reviewers",
        coerce=int,
        description="Assignments are balanced over them by open load. Without reviewers, "
        "assignments stay unassigned.",
    )
    partner_reviewers_own_only = BooleanField(
        "A partner's conversations go to that partner's own QA reviewers",
        description="Partner QA never receive other partners' or in-house conversations; "
        "with this on, in-house reviewers get a partner's conversations only when the plan "
        "has no QA reviewer of that partner.",
        default=True,
    )
    due_days = IntegerField(
        "Due after (days)",
        validators=[InputRequired(), NumberRange(min=1, max=MAX_DUE_DAYS)],
        default=7,
    )
    is_active = BooleanField("Active: run-sampling runs it", default=True)
    submit = SubmitField("Save plan")

    @staticmethod
    def initial(plan: SamplingPlan) -> dict[str, Any]:
        """The form's data for an existing plan."""
        filters: Mapping[str, Any] = plan.filters or {}
        params: Mapping[str, Any] = {**RISK_DEFAULTS, **(plan.params or {})}
        handle = filters.get("min_handle_seconds")
        return {
            "name": plan.name,
            "scorecard_id": plan.scorecard_id,
            "strategy": plan.strategy.value,
            "size": params.get("size"),
            "per_agent": params.get("per_agent"),
            "stratify_by": params.get("stratify_by", "team"),
            "low_csat_max": params["low_csat_max"],
            "weight_low_csat": params["weight_low_csat"],
            "long_handle_minutes": -(-int(params["long_handle_seconds"]) // 60),
            "weight_long_handle": params["weight_long_handle"],
            "escalation_tags": _tags_text(params["escalation_tags"]),
            "weight_escalation": params["weight_escalation"],
            "reopen_tags": _tags_text(params["reopen_tags"]),
            "weight_reopen": params["weight_reopen"],
            "partner_ids": filters.get("partner_ids", []),
            "team_ids": filters.get("team_ids", []),
            "agent_ids": filters.get("agent_ids", []),
            "channels": filters.get("channels", []),
            "window_days": filters.get("window_days"),
            "csat_min": filters.get("csat_min"),
            "csat_max": filters.get("csat_max"),
            "include_unrated": bool(filters.get("include_unrated")),
            "tags": _tags_text(filters.get("tags")),
            "min_handle_minutes": -(-handle // 60) if handle else None,
            "seed": plan.seed,
            "reviewer_ids": [reviewer.id for reviewer in plan.reviewers],
            "partner_reviewers_own_only": plan.partner_reviewers_own_only,
            "due_days": plan.due_days,
            "is_active": plan.is_active,
        }

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        strategy = self.strategy.data
        if strategy in SIZED and self.size.data is None and not self.size.errors:
            add_error(self.size, "This strategy needs a sample size.")
            valid = False
        if strategy == Strategy.QUOTA and self.per_agent.data is None and not self.per_agent.errors:
            add_error(self.per_agent, "A quota needs the number of conversations per agent.")
            valid = False
        low, high = self.csat_min.data, self.csat_max.data
        if low is not None and high is not None and low > high:
            add_error(self.csat_max, "The upper CSAT must not be below the lower one.")
            valid = False
        return valid

    def plan_input(self) -> PlanInput:
        """The validated form as the service's input."""
        minutes = self.min_handle_minutes.data
        return PlanInput(
            name=self.name.data or "",
            scorecard_id=self.scorecard_id.data or 0,
            strategy=Strategy(self.strategy.data),
            filters={
                "partner_ids": self.partner_ids.data or [],
                "team_ids": self.team_ids.data or [],
                "agent_ids": self.agent_ids.data or [],
                "channels": self.channels.data or [],
                "window_days": self.window_days.data,
                "csat_min": self.csat_min.data,
                "csat_max": self.csat_max.data,
                "include_unrated": bool(self.include_unrated.data),
                "tags": _split_tags(self.tags.data),
                "min_handle_seconds": minutes * 60 if minutes else None,
            },
            params={
                "size": self.size.data,
                "per_agent": self.per_agent.data,
                "stratify_by": self.stratify_by.data,
                "low_csat_max": self.low_csat_max.data,
                "weight_low_csat": self.weight_low_csat.data,
                "long_handle_seconds": (self.long_handle_minutes.data or 0) * 60,
                "weight_long_handle": self.weight_long_handle.data,
                "escalation_tags": _split_tags(self.escalation_tags.data),
                "weight_escalation": self.weight_escalation.data,
                "reopen_tags": _split_tags(self.reopen_tags.data),
                "weight_reopen": self.weight_reopen.data,
            },
            seed=self.seed.data or 0,
            reviewer_ids=self.reviewer_ids.data or [],
            partner_reviewers_own_only=bool(self.partner_reviewers_own_only.data),
            due_days=self.due_days.data or 0,
            is_active=bool(self.is_active.data),
        )


class PeriodForm(Form):
    """The period to preview (a GET form) or to run (posted)."""

    period = StringField(
        "Period",
        validators=[Optional(), Length(max=20)],
        description="ISO week 2026-W47, month 2026-11 or day 2026-11-23; empty: this week.",
    )
    submit = SubmitField("Run now")


class PreviewForm(PeriodForm):
    class Meta:
        csrf = False


class ReassignForm(Form):
    reviewer_id = SelectField(
        "New reviewer", coerce=optional_int, validators=[DataRequired("Choose a reviewer.")]
    )
    submit = SubmitField("Reassign")


class SkipForm(Form):
    reason = TextAreaField(
        "Why skip it?",
        validators=[
            DataRequired("Say why the conversation is skipped."),
            Length(max=MAX_SKIP_REASON_LENGTH),
        ],
        description="For example: a test conversation, wrong language, a duplicate.",
    )
    submit = SubmitField("Skip")


class AssignmentFilterForm(Form):
    """The assignment list's filters, read from the query string."""

    class Meta:
        csrf = False

    plan = SelectField("Plan", coerce=optional_int)
    reviewer = SelectField("Reviewer", default="")
    status = SelectField(
        "Status",
        choices=choices(
            [
                ("", "Open or in progress"),
                ("all", "Any"),
                *((s.value, label) for s, label in STATUS_LABELS.items()),
            ]
        ),
        default="",
    )
