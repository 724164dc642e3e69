"""Forms for a person's settings."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from coprod_study.account.service import MAX_DISPLAY_NAME, MAX_PASSWORD_LENGTH
from coprod_study.models import EMAIL_PREFERENCES, LANGUAGES


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        validators=[
            DataRequired(_l("Enter a display name.")),
            Length(max=MAX_DISPLAY_NAME, message=_l("Use at most %(max)d characters.")),
        ],
    )
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()))
    time_zone = StringField(
        _l("Time zone"),
        description=_l(
            "Pick one from the list, or type a city (Stockholm) or a name "
            "(Europe/Stockholm); capitals do not matter."
        ),
        validators=[DataRequired(_l("Enter a time zone.")), Length(max=64)],
    )
    email_preference = SelectField(
        _l("E-mail me about activity"), choices=list(EMAIL_PREFERENCES.items())
    )


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 10 characters."),
        validators=[DataRequired(_l("Choose a new password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the new password again.")),
            EqualTo("new_password", _l("The two passwords differ.")),
        ],
    )
