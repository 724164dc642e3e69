"""Forms for study groups."""

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

from coprod_study.markup import MAX_MARKDOWN_LENGTH
from coprod_study.models import JOIN_POLICIES
from coprod_study.services.groups import MAX_MESSAGE, MAX_NAME, MAX_QUESTION

MARKDOWN_HINT = (
    "Markdown works: **bold**, *italic*, lists with -, links as [text](https://...). "
    "Up to 20,000 characters."
)


def _length_message(limit: int) -> str:
    return f"This is too long; the limit is {limit:,} characters."


class GroupForm(FlaskForm):
    name = StringField(
        "Group name",
        validators=[
            DataRequired("Give the group a name."),
            Length(max=MAX_NAME, message=_length_message(MAX_NAME)),
        ],
    )
    description = TextAreaField(
        "Description",
        description="What the group is for and who it is for. " + MARKDOWN_HINT,
        validators=[Length(max=MAX_MARKDOWN_LENGTH, message=_length_message(MAX_MARKDOWN_LENGTH))],
    )
    join_policy = RadioField(
        "How people join", choices=list(JOIN_POLICIES.items()), default="open"
    )
    post_first = BooleanField(
        "Post before you see others: learners see peers' answers after posting their own",
        default=True,
    )
    allow_anonymous = BooleanField("Learners may post anonymously to peers", default=False)


class NewGroupForm(GroupForm):
    copy_from = SelectField(
        "Copy the extra questions of a group you facilitate",
        coerce=int,
        choices=[(0, "Do not copy")],
        default=0,
        validators=[Optional()],
    )


class JoinForm(FlaskForm):
    message = TextAreaField(
        "Message to the facilitators (optional)",
        validators=[Length(max=MAX_MESSAGE, message=_length_message(MAX_MESSAGE))],
    )


class DecisionForm(FlaskForm):
    message = StringField(
        "Message (optional)",
        validators=[Length(max=MAX_MESSAGE, message=_length_message(MAX_MESSAGE))],
    )


class AnswerForm(FlaskForm):
    body = TextAreaField(
        "Your answer",
        description=MARKDOWN_HINT,
        validators=[
            DataRequired("Write your answer before you post it."),
            Length(max=MAX_MARKDOWN_LENGTH, message=_length_message(MAX_MARKDOWN_LENGTH)),
        ],
    )
    anonymous = BooleanField("Post anonymously to peers (facilitators still see your name)")
    moment = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(
        "Your reply",
        description=MARKDOWN_HINT,
        validators=[
            DataRequired("Write your reply before you post it."),
            Length(max=MAX_MARKDOWN_LENGTH, message=_length_message(MAX_MARKDOWN_LENGTH)),
        ],
    )
    anonymous = BooleanField("Reply anonymously to peers")


class QuestionForm(FlaskForm):
    prompt = TextAreaField(
        "Question",
        validators=[
            DataRequired("Write the question."),
            Length(max=MAX_QUESTION, message=_length_message(MAX_QUESTION)),
        ],
    )


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""
