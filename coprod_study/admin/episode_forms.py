"""The episode editor's forms, one a section, and the words each section uses."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from coprod_study.catalog import transcript as transcript_service
from coprod_study.models import AUDIENCES, TAKEAWAY_KINDS


class CheckboxList(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class EpisodeForm(FlaskForm):
    slug = StringField(
        _l("Slug"),
        description=_l(
            "Lowercase letters, digits and hyphens; part of the episode's address. "
            "Changing it changes the address."
        ),
        validators=[DataRequired(_l("Enter a slug.")), Length(max=80)],
    )
    number = IntegerField(
        _l("Number"), validators=[InputRequired(_l("Enter the episode's number."))]
    )
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title.")), Length(max=200)])
    dimension = SelectField(_l("Main dimension"), validators=[DataRequired()])
    related_dimensions = CheckboxList(_l("Related dimensions"), validators=[Optional()])
    published = DateField(_l("Published on"), validators=[Optional()])
    audio_url = StringField(
        _l("Audio URL"), description=_l(
            "An http(s) address of the audio file, or a path on this site such as "
            "/static/audio/sample/respect-in-the-room.mp3."
        ),
        validators=[Length(max=500)],
    )
    duration = StringField(
        _l("Duration"), description=_l("mm:ss or h:mm:ss, for example 38:20."),
        validators=[Length(max=12)],
    )
    host = StringField(_l("Host"), validators=[Length(max=120)])
    summary = TextAreaField(_l("Summary"), description=_l("Markdown."), validators=[Length(max=20_000)])
    sample = BooleanField(_l("Sample content (written for the app, not from the series)"))


class GuestForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the guest's name.")), Length(max=120)])
    bio = TextAreaField(
        _l("Short bio"),
        description=_l("One bio per person: it shows in every episode they are a guest in."),
        validators=[Length(max=2000)],
    )


class TakeawayForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=list(TAKEAWAY_KINDS.items()))
    text = TextAreaField(_l("Text"), validators=[DataRequired(_l("Write the takeaway."))])


class QuestionForm(FlaskForm):
    prompt = TextAreaField(
        _l("Question"),
        description=_l("Changing the wording keeps the old wording on answers already written."),
        validators=[DataRequired(_l("Write the question."))],
    )
    audiences = CheckboxList(_l("Suits"), choices=list(AUDIENCES.items()), validators=[Optional()])


class ReferenceForm(FlaskForm):
    citation = TextAreaField(_l("Citation"), validators=[DataRequired(_l("Write the citation."))])
    url = StringField(_l("URL"), validators=[Length(max=500)])
    doi = StringField(_l("DOI"), description=_l("For example 10.1136/bmj.k3617."), validators=[Length(max=200)])


class ChapterForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter the chapter's title.")), Length(max=200)])
    start = StringField(
        _l("Starts at"), description=_l("mm:ss or h:mm:ss."),
        validators=[DataRequired(_l("Enter when the chapter starts.")), Length(max=12)],
    )


class TranscriptForm(FlaskForm):
    language = SelectField(
        _l("Language"), choices=list(transcript_service.TRANSCRIPT_LANGUAGES.items())
    )
    file = FileField(
        _l("WebVTT or SubRip file"),
        description=_l("Replaces the transcript in that language, if there is one."),
        validators=[FileRequired("Choose a file.")],
    )


ITEM_FORMS = {
    "guests": GuestForm,
    "takeaways": TakeawayForm,
    "questions": QuestionForm,
    "references": ReferenceForm,
    "chapters": ChapterForm,
}


SECTION_TITLES = {
    "guests": _l("Guests"),
    "takeaways": _l("Takeaways"),
    "questions": _l("Study questions"),
    "references": _l("References"),
    "chapters": _l("Chapters"),
}


# The editor's words for one item of each list: "Add a question", "Save question 2".
ITEM_LABELS = {
    "guests": {
        "add": _l("Add a guest"), "save": _l("Save guest %(index)s"), "name": _l("guest %(index)s"),
    },
    "takeaways": {
        "add": _l("Add a takeaway"),
        "save": _l("Save takeaway %(index)s"),
        "name": _l("takeaway %(index)s"),
    },
    "questions": {
        "add": _l("Add a question"),
        "save": _l("Save question %(index)s"),
        "name": _l("question %(index)s"),
    },
    "references": {
        "add": _l("Add a reference"),
        "save": _l("Save reference %(index)s"),
        "name": _l("reference %(index)s"),
    },
    "chapters": {
        "add": _l("Add a chapter"),
        "save": _l("Save chapter %(index)s"),
        "name": _l("chapter %(index)s"),
    },
}


# What the editor says after a change, per list.
ITEM_ADDED = {
    "guests": _l("The guest is added."),
    "takeaways": _l("The takeaway is added."),
    "questions": _l("The question is added."),
    "references": _l("The reference is added."),
    "chapters": _l("The chapter is added."),
}


ITEM_SAVED = {
    "guests": _l("The guest is saved."),
    "takeaways": _l("The takeaway is saved."),
    "questions": _l("The question is saved."),
    "references": _l("The reference is saved."),
    "chapters": _l("The chapter is saved."),
}


ITEM_DELETED = {
    "guests": _l("The guest is deleted."),
    "takeaways": _l("The takeaway is deleted."),
    "questions": _l("The question is deleted."),
    "references": _l("The reference is deleted."),
    "chapters": _l("The chapter is deleted."),
}
