"""Forms for managing user accounts and the organisation's settings."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from qa_app.auth.passwords import MIN_PASSWORD_LENGTH
from qa_app.forms import Form, choices
from qa_app.org.roles import Role

NONE = 0  # the choice that means "no partner" / "no agent profile"


class UserForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Email(), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Role", choices=choices((role.value, role.label) for role in Role))
    partner_id = SelectField(
        "Partner", coerce=int, description="Required for partner roles, empty for all others."
    )
    agent_id = SelectField("Agent profile", coerce=int, description="Required for the agent role.")
    submit = SubmitField("Save")


class NewUserForm(UserForm):
    password = PasswordField(
        "Initial password",
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)],
        description=f"At least {MIN_PASSWORD_LENGTH} characters; share it with the user safely.",
    )


class UserFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField("Search", validators=[Optional()])
    role = SelectField(
        "Role", choices=choices([("", "Any role"), *((r.value, r.label) for r in Role)])
    )
    status = SelectField(
        "Status", choices=choices([("", "Any"), ("active", "Active"), ("inactive", "Deactivated")])
    )


class OrganisationSettingsForm(Form):
    name = StringField("Organisation name", validators=[DataRequired(), Length(max=120)])
    redact_pii = BooleanField(
        "Redact personal data (emails, phone numbers, card numbers, IBANs) in imported "
        "conversations",
        description="Applies to imports from now on; conversations already imported keep the "
        "text they were stored with.",
    )
    confirm_unredacted = BooleanField(
        "I understand that, with redaction off, customers' personal data in imported "
        "conversations is stored and shown to reviewers as it is",
    )
    submit = SubmitField("Save settings")
