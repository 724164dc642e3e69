"""Forms for courses, assignments, extensions and enrolment."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from coprod_study.courses.service import MAX_CODE, MAX_EMAILS, MAX_TERM, MAX_TITLE
from coprod_study.groups.forms import MARKDOWN_HINT
from coprod_study.i18n import too_long as _too_long
from coprod_study.markup import MAX_MARKDOWN_LENGTH
from coprod_study.models import PLACEMENTS

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
DATETIME_MESSAGE = _l("Enter a date and time, such as 2026-03-30 17:00.")


def optional_int(value):
    """Coerce a submitted id; anything else becomes None for the service to refuse."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(label: str, required_message: str) -> DateTimeLocalField:
    return DateTimeLocalField(
        label,
        format=DATETIME_FORMATS,
        invalid_value_message=DATETIME_MESSAGE,
        validators=[InputRequired(required_message)],
    )


class CourseSettingsForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Give the course a title.")),
            Length(max=MAX_TITLE, message=_too_long(MAX_TITLE)),
        ],
    )
    term = StringField(
        _l("Term"),
        description=_l("For example: Spring 2026."),
        validators=[Optional(), Length(max=MAX_TERM, message=_too_long(MAX_TERM))],
    )
    time_zone = StringField(
        _l("Time zone of the course"),
        description=_l(
            "Due dates are entered in this zone (its IANA name, such as "
            "Europe/Stockholm); each person sees them in their own."
        ),
        default="UTC",
        validators=[DataRequired(_l("Enter a time zone.")), Length(max=64)],
    )
    description = TextAreaField(
        _l("Description"),
        description=MARKDOWN_HINT,
        validators=[Length(max=MAX_MARKDOWN_LENGTH, message=_too_long(MAX_MARKDOWN_LENGTH))],
    )
    placement = RadioField(
        _l("Placing learners in groups"), choices=list(PLACEMENTS.items()), default="educator"
    )


class CourseForm(CourseSettingsForm):
    code = StringField(
        _l("Course code"),
        description=_l(
            "Letters, digits, hyphens and underscores, such as COPROD-101. "
            "It is part of the course's web address and cannot be changed later."
        ),
        validators=[
            DataRequired(_l("Give the course a code, such as COPROD-101.")),
            Length(max=MAX_CODE, message=_too_long(MAX_CODE)),
        ],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Enrol code"),
        description=_l("The code your educator gave you."),
        validators=[DataRequired(_l("Enter the enrol code.")), Length(max=32, message=_too_long(32))],
    )


class AddLearnersForm(FlaskForm):
    emails = TextAreaField(
        _l("E-mail addresses of learners"),
        description=_l(
            "One or more, separated by commas or new lines. People with an account "
            "are enrolled at once; the others get an invitation e-mail."
        ),
        validators=[
            DataRequired(_l("Enter at least one e-mail address.")),
            Length(max=MAX_EMAILS * 260, message=_l("This list is too long.")),
        ],
    )


class AddEducatorForm(FlaskForm):
    email = EmailField(
        _l("E-mail address of the co-educator"),
        description=_l("They need an account on this site."),
        validators=[DataRequired(_l("Enter an e-mail address.")), Length(max=254)],
    )


class CourseGroupForm(FlaskForm):
    name = StringField(
        _l("Group name"),
        validators=[DataRequired(_l("Give the group a name.")), Length(max=120, message=_too_long(120))],
    )
    post_first = BooleanField(
        _l("Post before you see others: learners see peers' answers after posting their own"),
        default=True,
    )


class PlacementForm(FlaskForm):
    placement = RadioField(_l("Placing learners in groups"), choices=list(PLACEMENTS.items()))


class PlaceForm(FlaskForm):
    group_id = SelectField(_l("Group"), coerce=optional_int, validate_choice=False)


class ChooseGroupForm(FlaskForm):
    group_id = RadioField(_l("Choose your group"), coerce=optional_int, validate_choice=False)


class AssignmentForm(FlaskForm):
    episode_id = SelectField(_l("Episode"), coerce=optional_int, validate_choice=False)
    opens_at = DateTimeLocalField(
        _l("Opens at"),
        format=DATETIME_FORMATS,
        invalid_value_message=DATETIME_MESSAGE,
        description=_l("Filled in with the time now; leave it empty to open the assignment at once."),
        validators=[Optional()],
    )
    due_at = _when(_l("Due at"), _l("Enter the due date and time."))
    confirm_past_due = BooleanField(_l("The due date is in the past, save it anyway"))
    instructions = TextAreaField(
        _l("Instructions"),
        description=MARKDOWN_HINT,
        validators=[Length(max=MAX_MARKDOWN_LENGTH, message=_too_long(MAX_MARKDOWN_LENGTH))],
    )
    # Ticked boxes, each "<episode id>:<question number>" (the page lists every
    # episode's questions, so it works without a script); only the chosen episode's count.
    required_questions = SelectMultipleField(
        _l("Required study questions"),
        description=_l("Tick the questions learners must answer; tick none to require every question."),
        validate_choice=False,
    )
    reveal_after_due = BooleanField(
        _l(
            "Reveal the answers to the whole group after the due date "
            "(even to those who have not posted)"
        )
    )


class ExtensionForm(FlaskForm):
    user_id = SelectField(_l("Learner"), coerce=optional_int, validate_choice=False)
    due_at = _when(_l("New due date"), _l("Enter the new due date and time."))


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
