"""Forms for an assignment's checkpoints and their extensions."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, RadioField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from coprod_study.courses.forms import DATETIME_FORMATS, DATETIME_MESSAGE, optional_int
from coprod_study.models import CHECKPOINT_KINDS


class CheckpointForm(FlaskForm):
    answers_due = DateTimeLocalField(
        _l("Answers due by"),
        description=_l("The assignment's required questions answered by this date. Leave empty for no answers checkpoint."),
        format=DATETIME_FORMATS, invalid_value_message=DATETIME_MESSAGE, validators=[Optional()],
    )
    replies_required = IntegerField(
        _l("Replies to peers"),
        description=_l("How many replies to other learners' answers are due. 0 or empty: no replies checkpoint."),
        validators=[Optional(), NumberRange(min=0, max=50, message=_l("Enter a number from 0 to 50."))],
    )
    replies_due = DateTimeLocalField(
        _l("Replies due by"),
        description=_l("Later than the answers checkpoint."),
        format=DATETIME_FORMATS, invalid_value_message=DATETIME_MESSAGE, validators=[Optional()],
    )


class CheckpointExtensionForm(FlaskForm):
    user_id = SelectField(_l("Learner"), coerce=optional_int, validate_choice=False)
    kind = RadioField(
        _l("Checkpoint"), choices=list(CHECKPOINT_KINDS.items()),
        validators=[InputRequired(_l("Choose a checkpoint."))],
    )
    due_at = DateTimeLocalField(
        _l("New date"), format=DATETIME_FORMATS, invalid_value_message=DATETIME_MESSAGE,
        validators=[InputRequired(_l("Enter the new due date and time."))],
    )
