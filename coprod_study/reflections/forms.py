"""The reflection form: three parts, each optional, at least one filled in."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from coprod_study.reflections.service import MAX_LENGTH

TOO_LONG = _l("Use at most %(max)d characters.")


class ReflectionForm(FlaskForm):
    learned = TextAreaField(
        _l("What I learned"), validators=[Length(max=MAX_LENGTH, message=TOO_LONG)]
    )
    will_try = TextAreaField(
        _l("What I will try"), validators=[Length(max=MAX_LENGTH, message=TOO_LONG)]
    )
    for_whom = TextAreaField(
        _l("For whom"),
        description=_l("The patients, families, colleagues or teams it could matter to."),
        validators=[Length(max=MAX_LENGTH, message=TOO_LONG)],
    )


class DeleteForm(FlaskForm):
    pass
