"""Forms for study groups."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from coprod_study.groups.service import MAX_MESSAGE, MAX_NAME, MAX_QUESTION
from coprod_study.i18n import lazy_join, too_long
from coprod_study.markup import MAX_MARKDOWN_LENGTH
from coprod_study.models import JOIN_POLICIES

MARKDOWN_HINT = _l(
    "Markdown works: **bold**, *italic*, lists with -, links as [text](https://...). "
    "Up to 20,000 characters."
)
MENTION_HINT = _l("Mention a member with @[Their Name] (or @Name for a one-word name).")
BODY_HINT = lazy_join(MARKDOWN_HINT, " ", MENTION_HINT)
_length_message = too_long


class GroupForm(FlaskForm):
    name = StringField(
        _l("Group name"),
        validators=[
            DataRequired(_l("Give the group a name.")),
            Length(max=MAX_NAME, message=_length_message(MAX_NAME)),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        description=lazy_join(_l("What the group is for and who it is for."), " ", MARKDOWN_HINT),
        validators=[Length(max=MAX_MARKDOWN_LENGTH, message=_length_message(MAX_MARKDOWN_LENGTH))],
    )
    join_policy = RadioField(
        _l("How people join"), choices=list(JOIN_POLICIES.items()), default="open"
    )
    post_first = BooleanField(
        _l("Post before you see others: learners see peers' answers after posting their own"),
        default=True,
    )
    allow_anonymous = BooleanField(_l("Learners may post anonymously to peers"), default=False)


class NewGroupForm(GroupForm):
    copy_from = SelectField(
        _l("Copy the extra questions of a group you facilitate"),
        coerce=int,
        choices=[(0, _l("Do not copy"))],
        default=0,
        validators=[Optional()],
    )


class JoinForm(FlaskForm):
    message = TextAreaField(
        _l("Message to the facilitators (optional)"),
        validators=[Length(max=MAX_MESSAGE, message=_length_message(MAX_MESSAGE))],
    )


class DecisionForm(FlaskForm):
    message = StringField(
        _l("Message (optional)"),
        validators=[Length(max=MAX_MESSAGE, message=_length_message(MAX_MESSAGE))],
    )


class AnswerForm(FlaskForm):
    body = TextAreaField(
        _l("Your answer"),
        description=BODY_HINT,
        validators=[
            DataRequired(_l("Write your answer before you post it.")),
            Length(max=MAX_MARKDOWN_LENGTH, message=_length_message(MAX_MARKDOWN_LENGTH)),
        ],
    )
    anonymous = BooleanField(_l("Post anonymously to peers (facilitators still see your name)"))
    moment = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your reply"),
        description=BODY_HINT,
        validators=[
            DataRequired(_l("Write your reply before you post it.")),
            Length(max=MAX_MARKDOWN_LENGTH, message=_length_message(MAX_MARKDOWN_LENGTH)),
        ],
    )
    anonymous = BooleanField(_l("Reply anonymously to peers"))


class QuestionForm(FlaskForm):
    prompt = TextAreaField(
        _l("Question"),
        validators=[
            DataRequired(_l("Write the question.")),
            Length(max=MAX_QUESTION, message=_length_message(MAX_QUESTION)),
        ],
    )


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
