"""The conversation list's filter form: read from the query string, never posted."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from qa_app.conversations import browse
from qa_app.conversations.browse import ConversationFilters, SortKey
from qa_app.conversations.records import MAX_TAG_LENGTH
from qa_app.forms import Form, add_error, choices

CSAT_SCALE = range(1, 6)
MAX_QUERY_LENGTH = 200
# The query parameters the list understands; links rebuild URLs from these and nothing else.
FILTER_PARAMS = (
    "q",
    "partner",
    "team",
    "agent",
    "channel",
    "date_from",
    "date_to",
    "csat_min",
    "csat_max",
    "csat_unknown",
    "tags",
    "sort",
)
LIST_PARAMS = (*FILTER_PARAMS, "per_page")


def list_args(args: Mapping[str, Any], *, keep_page: bool = False) -> dict[str, str]:
    """The list's own non-empty parameters from ``args``, to carry over into links."""
    names = (*LIST_PARAMS, "page") if keep_page else LIST_PARAMS
    return {name: str(args[name]) for name in names if args.get(name) not in (None, "")}


@dataclass(frozen=True)
class FilterChip:
    """One active filter, shown so it can be removed on its own."""

    param: str
    label: str
    text: str
    remaining: str = ""  # the parameter's value once this filter is removed


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def without_control_characters(value: str | None) -> str | None:
    """Typed text never needs control characters, and PostgreSQL refuses NUL in strings."""
    return None if value is None else _CONTROL_CHARACTERS.sub(" ", value)


def optional_int(value: Any) -> int | None:
    """Coerce a select's value: empty means "any", anything else must be a whole number."""
    if value is None or value == "":
        return None
    return int(value)


# The invalid_*_message keywords are WTForms 3.3's, unknown to types-WTForms: see qa_app.forms.
def _id_field(label: str, message: str) -> SelectField:
    return SelectField(  # type: ignore[call-arg]  # WTForms 3.3
        label, coerce=optional_int, invalid_value_message=message, invalid_choice_message=message
    )


def _csat_field(label: str) -> SelectField:
    message = "CSAT must be a whole number from 1 to 5."
    return SelectField(  # type: ignore[call-arg]  # WTForms 3.3
        label,
        coerce=optional_int,
        choices=choices([("", "Any"), *((score, str(score)) for score in CSAT_SCALE)]),
        invalid_value_message=message,
        invalid_choice_message=message,
    )


class ConversationFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(
        "Search",
        validators=[Optional(), Length(max=MAX_QUERY_LENGTH)],
        filters=[without_control_characters],
        description="Words in any message; all must appear.",
    )
    partner = _id_field("Partner", "Choose a partner from the list.")
    team = _id_field("Team", "Choose a team from the list.")
    agent = _id_field("Agent", "Choose an agent from the list.")
    channel = SelectField(  # type: ignore[call-arg]  # WTForms 3.3
        "Channel",
        choices=choices([("", "Any channel"), *browse.channel_choices()]),
        default="",
        invalid_choice_message="Choose a channel from the list.",
    )
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC)", validators=[Optional()])
    csat_min = _csat_field("CSAT from")
    csat_max = _csat_field("CSAT to")
    csat_unknown = BooleanField("Only without CSAT")
    tags = StringField(
        "Tags",
        validators=[Optional(), Length(max=(MAX_TAG_LENGTH + 2) * browse.MAX_TAG_FILTERS)],
        filters=[without_control_characters],
        description="Separate with commas; all must match.",
    )
    reviewed = SelectField(  # type: ignore[call-arg]  # WTForms 3.3
        "Reviewed",
        choices=choices([("", "Any"), ("yes", "Reviewed"), ("no", "Not reviewed yet")]),
        default="",
        invalid_choice_message="Choose reviewed or not from the list.",
    )
    sort = SelectField(  # type: ignore[call-arg]  # WTForms 3.3
        "Sort",
        choices=choices((key.value, key.label) for key in SortKey),
        default=SortKey.NEWEST.value,
        invalid_choice_message="Choose a sort order from the list.",
    )

    @classmethod
    def for_user(
        cls, session: Session, user: Any, args: Mapping[str, Any]
    ) -> ConversationFilterForm:
        """The form read from ``args``, offering only the partners, teams and agents in scope."""
        form = cls(formdata=args)
        for field, options, any_label in (
            (form.partner, browse.partner_choices(session, user), "All partners"),
            (form.team, browse.team_choices(session, user), "All teams"),
            (form.agent, browse.agent_choices(session, user), "All agents"),
        ):
            if options:
                field.choices = choices([("", any_label), *options])
            else:
                delattr(form, field.name)
        return form

    def validate(self, extra_validators: Mapping[str, Any] | None = None) -> bool:
        valid = super().validate(extra_validators)
        if self.date_from.data and self.date_to.data and self.date_from.data > self.date_to.data:
            add_error(self.date_to, "The end date must not be before the start date.")
            valid = False
        low, high = self.csat_min.data, self.csat_max.data
        if low is not None and high is not None and low > high:
            add_error(self.csat_max, "The upper CSAT must not be below the lower one.")
            valid = False
        if self.csat_unknown.data and (low is not None or high is not None):
            add_error(self.csat_unknown, "Choose either a CSAT range or no CSAT, not both.")
            valid = False
        tags = browse.parse_tags(self.tags.data or "")
        if len(tags) > browse.MAX_TAG_FILTERS:
            add_error(self.tags, f"Filter by at most {browse.MAX_TAG_FILTERS} tags.")
            valid = False
        if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            add_error(self.tags, f"A tag has at most {MAX_TAG_LENGTH} characters.")
            valid = False
        return valid

    def filters(self) -> ConversationFilters:
        """The validated input as the browse service's filters."""

        def selected(field: SelectField | None) -> int | None:
            return None if field is None else field.data

        return ConversationFilters(
            partner_id=selected(self.partner),
            team_id=selected(self.team),
            agent_id=selected(self.agent),
            channel=self.channel.data or None,
            date_from=self.date_from.data,
            date_to=self.date_to.data,
            csat_min=self.csat_min.data,
            csat_max=self.csat_max.data,
            csat_unknown=bool(self.csat_unknown.data),
            tags=browse.parse_tags(self.tags.data or ""),
            q=(self.q.data or "").strip(),
            reviewed={"yes": True, "no": False}.get(self.reviewed.data or ""),
            sort=SortKey(self.sort.data or SortKey.NEWEST),
        )

    def active_filters(self) -> list[FilterChip]:
        """The filters in effect, in the order of the form; call after a successful validate."""
        chips: list[FilterChip] = []
        query = (self.q.data or "").strip()
        if query:
            chips.append(FilterChip("q", "Search", query))
        for field in (self.partner, self.team, self.agent, self.channel):
            if field is not None and field.data not in (None, ""):
                chips.append(FilterChip(field.name, field.label.text, _selected_label(field)))
        if self.date_from.data:
            chips.append(FilterChip("date_from", "From", self.date_from.data.isoformat()))
        if self.date_to.data:
            chips.append(FilterChip("date_to", "To", self.date_to.data.isoformat()))
        if self.csat_min.data is not None:
            chips.append(FilterChip("csat_min", "CSAT at least", str(self.csat_min.data)))
        if self.csat_max.data is not None:
            chips.append(FilterChip("csat_max", "CSAT at most", str(self.csat_max.data)))
        if self.csat_unknown.data:
            chips.append(FilterChip("csat_unknown", "CSAT", "none"))
        if self.reviewed.data:
            chips.append(FilterChip("reviewed", "Reviewed", _selected_label(self.reviewed)))
        tags = browse.parse_tags(self.tags.data or "")
        for tag in tags:
            remaining = ",".join(other for other in tags if other != tag)
            chips.append(FilterChip("tags", "Tag", tag, remaining))
        return chips


def _selected_label(field: SelectField) -> str:
    # Unpacked, not read by name: types-WTForms gives iter_choices() plain tuples, though
    # WTForms 3.3 yields Choice(value, label, selected, render_kw) named tuples.
    return next((str(label) for _, label, selected, _ in field.iter_choices() if selected), "")
