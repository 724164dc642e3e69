"""The contact form."""

from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from coprod_study.services.inquiries import MAX_MESSAGE, MAX_NAME, MAX_SUBJECT


class ContactForm(FlaskForm):
    name = StringField(
        "Your name",
        validators=[DataRequired("Enter your name."), Length(max=MAX_NAME)],
    )
    email = EmailField(
        "Your e-mail address",
        description="We reply to this address and use it for nothing else.",
        validators=[DataRequired("Enter your e-mail address."), Length(max=254)],
    )
    subject = StringField(
        "Subject", validators=[DataRequired("Enter a subject."), Length(max=MAX_SUBJECT)]
    )
    message = TextAreaField(
        "Message",
        validators=[
            DataRequired("Write your message."),
            Length(max=MAX_MESSAGE, message="Use at most %(max)d characters."),
        ],
    )
    # The honeypot: hidden from people by CSS, filled in by form-filling bots.
    website = StringField("Leave this field empty")
    started = HiddenField()
