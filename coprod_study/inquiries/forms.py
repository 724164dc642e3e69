"""The contact form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from coprod_study.inquiries.service import MAX_MESSAGE, MAX_NAME, MAX_SUBJECT


class ContactForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[DataRequired(_l("Enter your name.")), Length(max=MAX_NAME)],
    )
    email = EmailField(
        _l("Your e-mail address"),
        description=_l("We reply to this address and use it for nothing else."),
        validators=[DataRequired(_l("Enter your e-mail address.")), Length(max=254)],
    )
    subject = StringField(
        _l("Subject"), validators=[DataRequired(_l("Enter a subject.")), Length(max=MAX_SUBJECT)]
    )
    message = TextAreaField(
        _l("Message"),
        validators=[
            DataRequired(_l("Write your message.")),
            Length(max=MAX_MESSAGE, message=_l("Use at most %(max)d characters.")),
        ],
    )
    # The honeypot: hidden from people by CSS, filled in by form-filling bots.
    website = StringField(_l("Leave this field empty"))
    started = HiddenField()
