"""Forms for courses, assignments, extensions and enrolment."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    EmailField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from coprod_study.markup import MAX_MARKDOWN_LENGTH
from coprod_study.models import PLACEMENTS
from coprod_study.services.courses import MAX_CODE, MAX_EMAILS, MAX_TERM, MAX_TITLE

MARKDOWN_HINT = (
    "Markdown works: **bold**, *italic*, lists with -, links as [text](https://...). "
    "Up to 20,000 characters."
)
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
DATETIME_MESSAGE = "Enter a date and time, such as 2026-03-30 17:00."


def _too_long(limit: int) -> str:
    return f"This is too long; the limit is {limit:,} characters."


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
        "Title",
        validators=[
            DataRequired("Give the course a title."),
            Length(max=MAX_TITLE, message=_too_long(MAX_TITLE)),
        ],
    )
    term = StringField(
        "Term",
        description="For example: Spring 2026.",
        validators=[Optional(), Length(max=MAX_TERM, message=_too_long(MAX_TERM))],
    )
    time_zone = StringField(
        "Time zone of the course",
        description="Due dates are entered in this zone (its IANA name, such as "
        "Europe/Stockholm); each person sees them in their own.",
        default="UTC",
        validators=[DataRequired("Enter a time zone."), Length(max=64)],
    )
    description = TextAreaField(
        "Description",
        description=MARKDOWN_HINT,
        validators=[Length(max=MAX_MARKDOWN_LENGTH, message=_too_long(MAX_MARKDOWN_LENGTH))],
    )
    placement = RadioField(
        "Placing learners in groups", choices=list(PLACEMENTS.items()), default="educator"
    )


class CourseForm(CourseSettingsForm):
    code = StringField(
        "Course code",
        description="Letters, digits, hyphens and underscores, such as COPROD-101. "
        "It is part of the course's web address and cannot be changed later.",
        validators=[
            DataRequired("Give the course a code, such as COPROD-101."),
            Length(max=MAX_CODE, message=_too_long(MAX_CODE)),
        ],
    )


class EnrolForm(FlaskForm):
    code = StringField(
        "Enrol code",
        description="The code your educator gave you.",
        validators=[DataRequired("Enter the enrol code."), Length(max=32, message=_too_long(32))],
    )


class AddLearnersForm(FlaskForm):
    emails = TextAreaField(
        "E-mail addresses of learners",
        description="One or more, separated by commas or new lines. People with an account "
        "are enrolled at once; the others get an invitation e-mail.",
        validators=[
            DataRequired("Enter at least one e-mail address."),
            Length(max=MAX_EMAILS * 260, message="This list is too long."),
        ],
    )


class AddEducatorForm(FlaskForm):
    email = EmailField(
        "E-mail address of the co-educator",
        description="They need an account on this site.",
        validators=[DataRequired("Enter an e-mail address."), Length(max=254)],
    )


class CourseGroupForm(FlaskForm):
    name = StringField(
        "Group name",
        validators=[DataRequired("Give the group a name."), Length(max=120, message=_too_long(120))],
    )
    post_first = BooleanField(
        "Post before you see others: learners see peers' answers after posting their own",
        default=True,
    )


class PlacementForm(FlaskForm):
    placement = RadioField("Placing learners in groups", choices=list(PLACEMENTS.items()))


class PlaceForm(FlaskForm):
    group_id = SelectField("Group", coerce=optional_int, validate_choice=False)


class ChooseGroupForm(FlaskForm):
    group_id = RadioField("Choose your group", coerce=optional_int, validate_choice=False)


class AssignmentForm(FlaskForm):
    episode_id = SelectField("Episode", coerce=optional_int, validate_choice=False)
    opens_at = _when("Opens at", "Enter when the assignment opens.")
    due_at = _when("Due at", "Enter the due date and time.")
    instructions = TextAreaField(
        "Instructions",
        description=MARKDOWN_HINT,
        validators=[Length(max=MAX_MARKDOWN_LENGTH, message=_too_long(MAX_MARKDOWN_LENGTH))],
    )
    required_questions = StringField(
        "Required study questions",
        description="Their numbers, such as 1, 2, 4. Leave empty to require every question.",
        validators=[Optional(), Length(max=200, message=_too_long(200))],
    )
    reveal_after_due = BooleanField(
        "Reveal the answers to the whole group after the due date "
        "(even to those who have not posted)"
    )


class ExtensionForm(FlaskForm):
    user_id = SelectField("Learner", coerce=optional_int, validate_choice=False)
    due_at = _when("New due date", "Enter the new due date and time.")


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
