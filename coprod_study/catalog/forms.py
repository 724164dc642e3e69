"""Forms on catalog pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from coprod_study.models import LANGUAGES


class ListenedForm(FlaskForm):
    listened = HiddenField(default="1")


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=list(LANGUAGES.items()))
