"""Forms for accounts."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from coprod_study.services.accounts import MAX_DISPLAY_NAME, MAX_PASSWORD_LENGTH


class RegisterForm(FlaskForm):
    email = EmailField(
        "E-mail address",
        validators=[DataRequired("Enter your e-mail address."), Length(max=254)],
    )
    display_name = StringField(
        "Display name",
        description="Shown to the people in your groups.",
        validators=[
            DataRequired("Enter a display name."),
            Length(max=MAX_DISPLAY_NAME, message="Use at most %(max)d characters."),
        ],
    )
    password = PasswordField(
        "Password",
        description="At least 10 characters; a short sentence works well.",
        validators=[DataRequired("Choose a password."), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        "Password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords differ."),
        ],
    )


class LoginForm(FlaskForm):
    email = EmailField(
        "E-mail address", validators=[DataRequired("Enter your e-mail address."), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=MAX_PASSWORD_LENGTH)]
    )
    remember = BooleanField("Keep me signed in on this device")


class ResetRequestForm(FlaskForm):
    email = EmailField(
        "E-mail address", validators=[DataRequired("Enter your e-mail address."), Length(max=254)]
    )


class ResetForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Choose a password."), Length(max=MAX_PASSWORD_LENGTH)],
    )
    confirm = PasswordField(
        "New password again",
        validators=[
            DataRequired("Type the password again."),
            EqualTo("password", "The two passwords differ."),
        ],
    )


class LogoutForm(FlaskForm):
    """Only the CSRF token: logging out is a POST."""
