"""Forms for threads."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from coprod_study.groups.forms import MARKDOWN_HINT
from coprod_study.markup import MAX_MARKDOWN_LENGTH
from coprod_study.models import FOLLOW_LEVELS

MENTION_HINT = " Mention a member with @[Their Name] (or @Name for a one-word name)."


class ThreadForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[
            DataRequired("Give the thread a title."),
            Length(max=200, message="Keep the title under 200 characters."),
        ],
    )
    body = TextAreaField(
        "Opening post",
        description=MARKDOWN_HINT + MENTION_HINT,
        validators=[
            DataRequired("Write the opening post."),
            Length(max=MAX_MARKDOWN_LENGTH, message="This is too long; the limit is 20,000 characters."),
        ],
    )
    episode = SelectField("Episode (optional)", coerce=int, choices=[(0, "No episode")], default=0)
    moment = StringField(
        "Moment in the episode (optional)",
        description="As mm:ss, for example 12:34.",
        validators=[Optional(), Length(max=10)],
    )
    announcement = BooleanField("Announcement: notify every member")


class PostForm(FlaskForm):
    body = TextAreaField(
        "Your post",
        description=MARKDOWN_HINT + MENTION_HINT,
        validators=[
            DataRequired("Write your post before you send it."),
            Length(max=MAX_MARKDOWN_LENGTH, message="This is too long; the limit is 20,000 characters."),
        ],
    )
    quote = HiddenField()
    moment = HiddenField()
    anonymous = BooleanField("Post anonymously to peers")


class FollowForm(FlaskForm):
    level = RadioField("Notify me", choices=list(FOLLOW_LEVELS.items()))


class LockForm(FlaskForm):
    reason = StringField(
        "Reason (shown to members)", validators=[Optional(), Length(max=300)]
    )
