"""Forms on catalog pages."""

from flask_wtf import FlaskForm
from wtforms import HiddenField


class ListenedForm(FlaskForm):
    listened = HiddenField(default="1")
