"""Forms for logging in, managing one's own password and API tokens."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from qa_app.auth.passwords import MIN_PASSWORD_LENGTH
from qa_app.auth.tokens import DEFAULT_LIFETIME_DAYS, LIFETIME_CHOICES
from qa_app.forms import Form, choices


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField("Keep me logged in on this device")
    submit = SubmitField("Log in")


class ChangePasswordForm(Form):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=1024)]
    )
    confirm = PasswordField(
        "Repeat the new password",
        validators=[DataRequired(), EqualTo("new_password", message="Passwords do not match.")],
    )
    submit = SubmitField("Change password")


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class CreateTokenForm(Form):
    name = StringField(
        "Token name",
        validators=[DataRequired(), Length(max=100)],
        filters=[_strip],
        description="What the token is for, e.g. “Nightly Zendesk import”.",
    )
    lifetime = SelectField(
        "Expires after",
        choices=choices(
            (str(days or "never"), f"{days} days" if days else "never (until revoked)")
            for days in LIFETIME_CHOICES
        ),
        default=str(DEFAULT_LIFETIME_DAYS),
        description="A token that expires limits the harm if it leaks; make a new one then.",
    )
    submit = SubmitField("Create token")

    @property
    def days(self) -> int | None:
        value = self.lifetime.data or ""
        return int(value) if value.isdigit() else None
