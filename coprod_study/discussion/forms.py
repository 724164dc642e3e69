"""Forms for threads."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from coprod_study.groups.forms import BODY_HINT
from coprod_study.i18n import too_long
from coprod_study.markup import MAX_MARKDOWN_LENGTH
from coprod_study.models import FOLLOW_LEVELS


class ThreadForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(_l("Give the thread a title.")),
            Length(max=200, message=_l("Keep the title under 200 characters.")),
        ],
    )
    body = TextAreaField(
        _l("Opening post"),
        description=BODY_HINT,
        validators=[
            DataRequired(_l("Write the opening post.")),
            Length(max=MAX_MARKDOWN_LENGTH, message=too_long(MAX_MARKDOWN_LENGTH)),
        ],
    )
    episode = SelectField(_l("Episode (optional)"), coerce=int, choices=[(0, _l("No episode"))], default=0)
    moment = StringField(
        _l("Moment in the episode (optional)"),
        description=_l("As mm:ss, for example 12:34."),
        validators=[Optional(), Length(max=10)],
    )
    announcement = BooleanField(
        _l("Mark it as an announcement"),
        description=_l(
            "It gets an “Announcement” badge, and the notification says “Announcement” "
            "instead of “New thread”. Members are notified either way."
        ),
    )


class PostForm(FlaskForm):
    body = TextAreaField(
        _l("Your post"),
        description=BODY_HINT,
        validators=[
            DataRequired(_l("Write your post before you send it.")),
            Length(max=MAX_MARKDOWN_LENGTH, message=too_long(MAX_MARKDOWN_LENGTH)),
        ],
    )
    quote = HiddenField()
    moment = HiddenField()
    anonymous = BooleanField(_l("Post anonymously to peers"))


class FollowForm(FlaskForm):
    level = RadioField(_l("Notify me"), choices=list(FOLLOW_LEVELS.items()))


class LockForm(FlaskForm):
    reason = StringField(
        _l("Reason (shown to members)"), validators=[Optional(), Length(max=300)]
    )
