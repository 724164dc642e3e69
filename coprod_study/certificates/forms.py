"""Forms with nothing but a CSRF token and what they act on."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class IssueForm(FlaskForm):
    episode = HiddenField()
    course = HiddenField()


class ActionForm(FlaskForm):
    pass
