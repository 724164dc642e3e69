"""Forms for a person's settings."""

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from coprod_study.models import EMAIL_PREFERENCES, LANGUAGES
from coprod_study.services.accounts import MAX_DISPLAY_NAME, MAX_PASSWORD_LENGTH


class ProfileForm(FlaskForm):
    display_name = StringField(
        "Display name",
        validators=[
            DataRequired("Enter a display name."),
            Length(max=MAX_DISPLAY_NAME, message="Use at most %(max)d characters."),
        ],
    )
    language = SelectField("Language", choices=list(LANGUAGES.items()))
    time_zone = StringField(
        "Time zone",
        description="Its IANA name, such as Europe/Stockholm or America/New_York.",
        validators=[DataRequired("Enter a time zone."), Length(max=64)],
    )
    email_preference = SelectField(
        "E-mail me about activity", choices=list(EMAIL_PREFERENCES.items())
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=MAX_PASSWORD_LENGTH)],
    )
    new_password = PasswordField(
        "New password",
        description="At least 10 characters.",
        validators=[DataRequired("Choose a new password."), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("new_password", "The two passwords differ."),
        ],
    )
