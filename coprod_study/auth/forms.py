"""Forms for accounts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from coprod_study.account.service import MAX_DISPLAY_NAME, MAX_PASSWORD_LENGTH


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
    )
    display_name = StringField(
        _l("Display name"),
        description=_l("Shown to the people in your groups."),
        validators=[
            DataRequired(_l("Enter a display name.")),
            Length(max=MAX_DISPLAY_NAME, message=_l("Use at most %(max)d characters.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        description=_l("At least 10 characters; a short sentence works well."),
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        _l("Password again"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords differ.")),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=MAX_PASSWORD_LENGTH)]
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)]
    )


class ResetForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(_l("Choose a password.")), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        _l("New password again"),
        validators=[
            DataRequired(_l("Type the password again.")),
            EqualTo("password", _l("The two passwords differ.")),
        ],
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST."""
