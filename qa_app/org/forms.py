"""Forms for partners, teams and agents."""

from __future__ import annotations

from wtforms import DateField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from qa_app.forms import Form, choices
from qa_app.org.models import AgentStatus

IN_HOUSE = 0  # the "partner" choice that means in-house


class PartnerForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    submit = SubmitField("Save")


class TeamForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    partner_id = SelectField("Belongs to", coerce=int)
    submit = SubmitField("Save")


class AgentForm(Form):
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    external_id = StringField(
        "External id",
        validators=[Optional(), Length(max=100)],
        description="The agent's id in your helpdesk; imports match agents by it.",
    )
    email = EmailField("Email", validators=[Optional(), Length(max=254)])
    team_id = SelectField("Team", coerce=int, validators=[DataRequired()])
    hire_date = DateField("Hire date", validators=[Optional()])
    status = SelectField(
        "Status",
        choices=choices(
            (status.value, status.value.replace("_", " ").capitalize()) for status in AgentStatus
        ),
    )
    submit = SubmitField("Save")
