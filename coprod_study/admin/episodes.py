"""Views for /admin/episodes: the catalog edited in the browser, checked like the catalog file."""

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
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

from coprod_study import policy
from coprod_study.admin import bp
from coprod_study.catalog import editing as catalog_edit
from coprod_study.catalog import transcript as transcript_service
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.forms import add_domain_error
from coprod_study.models import AUDIENCES, TAKEAWAY_KINDS, Answer, Dimension, Episode, StudyQuestion


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


def _actor():
    return current_user._get_current_object()


def _episode(slug: str) -> Episode:
    try:
        return catalog_edit.get_episode(slug)
    except DomainError:
        abort(404)


def _dimension_choices(form: EpisodeForm) -> None:
    choices = [
        (d.slug, d.name)
        for d in db.session.scalars(select(Dimension).order_by(Dimension.position, Dimension.id))
    ]
    form.dimension.choices = choices
    form.related_dimensions.choices = choices


def _fields(form: EpisodeForm) -> catalog_edit.EpisodeFields:
    return catalog_edit.EpisodeFields(
        slug=form.slug.data or "",
        number=form.number.data,
        title=form.title.data or "",
        dimension=form.dimension.data or "",
        related_dimensions=form.related_dimensions.data or [],
        published=form.published.data,
        audio_url=form.audio_url.data or "",
        duration=form.duration.data or "",
        host=form.host.data or "",
        summary=form.summary.data or "",
        sample=bool(form.sample.data),
    )


def _field_for(form, message: str) -> str | None:
    """The form field a loader problem is about ("Takeaway 2: empty text" -> text)."""
    text = re.sub(r"^\w+ \d+: ", "", message).lower().replace("audio url", "audio_url")
    for word in text.split()[:2]:
        name = word.strip(".,:;\"'")
        if name in form._fields and name != "csrf_token":
            return name
    return None


def _show_error(form, error: DomainError) -> None:
    for message in getattr(error, "problems", None) or [error.message]:
        add_domain_error(form, DomainError(message, field=error.field or _field_for(form, message)))


def _item_form(kind: str, index, item: dict | None = None, formdata=None):
    form_class = ITEM_FORMS[kind]
    prefix = f"{kind}-{index}"
    if formdata is not None:
        return form_class(prefix=prefix)
    form = form_class(prefix=prefix, formdata=None, data=item or {})
    return form


# --- List, create ---------------------------------------------------------------------------


@bp.route("/episodes")
def episodes():
    items = db.session.scalars(
        select(Episode).options(selectinload(Episode.dimension)).order_by(Episode.number)
    ).all()
    return render_template("admin/episodes/index.html", episodes=items)


@bp.route("/episodes/new", methods=["GET", "POST"])
def new_episode():
    form = EpisodeForm()
    _dimension_choices(form)
    if request.method == "GET":
        last = db.session.scalar(select(func.max(Episode.number)))
        form.number.data = (last or 0) + 1
    if form.validate_on_submit():
        try:
            episode = catalog_edit.create_episode(_actor(), _fields(form))
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(_("Episode %(number)s is created. Add its guests, questions and more below.", number=episode.number),
                  "success")
            return redirect(url_for("admin.edit_episode", slug=episode.slug))
    return render_template("admin/episodes/new.html", form=form), 400 if form.errors else 200


# --- The editor page --------------------------------------------------------------------------


def _render(episode: Episode, *, episode_form=None, failed=None, transcript_form=None, status=200,
            page_forms=None):
    """The whole editor. `failed` is (kind, index, form) for an item form sent with errors;
    `page_forms` is a PageForms sent back whole (every item as it was typed)."""
    if page_forms is not None:
        episode_form = page_forms.episode
    raw = catalog_edit.document(episode)
    if episode_form is None:
        episode_form = EpisodeForm(formdata=None, data={
            "slug": raw["slug"],
            "number": raw["number"],
            "title": raw["title"],
            "dimension": raw["dimension"],
            "related_dimensions": raw.get("related_dimensions", []),
            "published": raw.get("published"),
            "audio_url": raw.get("audio_url", ""),
            "duration": raw.get("duration", ""),
            "host": raw.get("host", ""),
            "summary": raw.get("summary", ""),
            "sample": raw.get("sample", False),
        })
    _dimension_choices(episode_form)
    sections = []
    for kind in ITEM_FORMS:
        rows = []
        for index, item in enumerate(raw.get(kind, []), start=1):
            if failed and failed[0] == kind and failed[1] == index:
                rows.append((index, failed[2]))
            elif page_forms is not None and index in page_forms.items.get(kind, {}):
                rows.append((index, page_forms.items[kind][index]))
            else:
                rows.append((index, _item_form(kind, index, item)))
        add_form = failed[2] if failed and failed[0] == kind and failed[1] == "new" else (
            page_forms.added[kind] if page_forms is not None and kind in page_forms.added
            else _item_form(kind, "new")
        )
        sections.append((kind, SECTION_TITLES[kind], rows, add_form))
    answer_counts = dict(
        db.session.execute(
            select(StudyQuestion.position, func.count(Answer.id))
            .join(Answer, Answer.study_question_id == StudyQuestion.id)
            .where(StudyQuestion.episode_id == episode.id)
            .group_by(StudyQuestion.position)
        ).all()
    )
    return (
        render_template(
            "admin/episodes/edit.html",
            episode=episode,
            form=episode_form,
            sections=sections,
            answer_counts=answer_counts,
            languages=transcript_service.languages(episode),
            language_names=transcript_service.TRANSCRIPT_LANGUAGES,
            transcript_form=transcript_form or TranscriptForm(),
            item_labels=ITEM_LABELS,
        ),
        status,
    )


# The editor is one form (see templates/admin/episodes/edit.html): "Save all changes"
# sends the fields and every item, and so do its Move, Delete and Add buttons, which
# save what was typed before they act. A page of separate forms lost every edit but the
# one whose button was pressed, without a word; one form cannot, with or without
# JavaScript, and it is what editors of a CMS page expect.


@dataclass
class PageForms:
    episode: EpisodeForm
    items: dict = dataclass_field(default_factory=dict)  # kind -> index -> form
    added: dict = dataclass_field(default_factory=dict)  # kind -> form, when filled in

    def all(self):
        yield self.episode
        for by_index in self.items.values():
            yield from by_index.values()
        yield from self.added.values()


ITEM_PROBLEM = re.compile(r"^(\w+) (\d+): ")
KIND_OF_ITEM = {
    "guest": "guests", "takeaway": "takeaways", "question": "questions",
    "reference": "references", "chapter": "chapters",
}


def _page_forms(episode: Episode) -> PageForms:
    """The editor's forms filled from the request: the items whose fields were sent, and
    each add row with anything typed in it."""
    forms = PageForms(episode=EpisodeForm())
    _dimension_choices(forms.episode)
    raw = catalog_edit.document(episode)
    for kind, form_class in ITEM_FORMS.items():
        for index in range(1, len(raw.get(kind, [])) + 1):
            prefix = f"{kind}-{index}"
            if any(key.startswith(prefix + "-") for key in request.form):
                forms.items.setdefault(kind, {})[index] = form_class(
                    prefix=prefix, meta={"csrf": False}
                )
        typed = [
            value for key, value in request.form.items(multi=True)
            if key.startswith(f"{kind}-new-") and not key.endswith("-kind") and value.strip()
        ]
        if typed:
            forms.added[kind] = form_class(prefix=f"{kind}-new", meta={"csrf": False})
    return forms


def _show_page_error(forms: PageForms, error: DomainError) -> None:
    """Each of the loader's problems next to the item it names ("Question 2: ...")."""
    for message in getattr(error, "problems", None) or [error.message]:
        match = ITEM_PROBLEM.match(message)
        kind = KIND_OF_ITEM.get(match.group(1).lower()) if match else None
        form = forms.items.get(kind, {}).get(int(match.group(2))) if kind else None
        if form is None:
            form = forms.episode
        add_domain_error(form, DomainError(message, field=error.field or _field_for(form, message)))


def _save_page(episode: Episode):
    """Save everything the editor sent. None when saved; else the page with the problems
    beside their fields and everything typed kept (status 400)."""
    forms = _page_forms(episode)
    valid = forms.episode.validate_on_submit()
    valid = all([form.validate() for form in forms.all() if form is not forms.episode]) and valid
    if valid:
        try:
            catalog_edit.update_page(
                _actor(), episode, _fields(forms.episode),
                {kind: {i: _values(kind, f) for i, f in by_index.items()}
                 for kind, by_index in forms.items.items()},
                {kind: _values(kind, f) for kind, f in forms.added.items()},
            )
        except DomainError as error:
            _show_page_error(forms, error)
        else:
            return None
    return _render(_episode(episode.slug), page_forms=forms, status=400)


@bp.route("/episodes/<slug>", methods=["GET", "POST"])
def edit_episode(slug: str):
    episode = _episode(slug)
    if request.method == "GET":
        return _render(episode)
    refused = _save_page(episode)
    if refused is not None:
        return refused
    flash(_("All changes are saved."), "success")
    return redirect(url_for("admin.edit_episode", slug=episode.slug))


def _sent_whole_page() -> bool:
    """A Move, Delete or Add button of the editor's one form: the page came with it."""
    return request.form.get("whole_page") == "1"


@bp.route("/episodes/<slug>/delete", methods=["POST"])
def delete_episode(slug: str):
    episode = _episode(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        catalog_edit.delete_episode(_actor(), episode)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.edit_episode", slug=slug))
    flash(_("The episode is deleted."), "success")
    return redirect(url_for("admin.episodes"))


def _kind(kind: str) -> str:
    if kind not in ITEM_FORMS:
        abort(404)
    return kind


def _values(kind: str, form) -> dict:
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


def _back(episode: Episode, kind: str) -> str:
    return url_for("admin.edit_episode", slug=episode.slug) + f"#{kind}"


@bp.route("/episodes/<slug>/<kind>/add", methods=["POST"])
def add_item(slug: str, kind: str):
    episode = _episode(slug)
    _kind(kind)
    if _sent_whole_page():
        # The new row is saved with everything else typed on the page.
        refused = _save_page(episode)
        if refused is not None:
            return refused
        if any(
            value.strip() for key, value in request.form.items(multi=True)
            if key.startswith(f"{kind}-new-") and not key.endswith("-kind")
        ):
            flash(str(ITEM_ADDED[kind]), "success")
        else:
            flash(_("All changes are saved. The new item was empty, so nothing was added."), "info")
        return redirect(_back(_episode(request.form.get("slug") or slug), kind))
    form = _item_form(kind, "new", formdata=True)
    if form.validate_on_submit():
        try:
            catalog_edit.add_item(_actor(), episode, kind, _values(kind, form))
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(str(ITEM_ADDED[kind]), "success")
            return redirect(_back(episode, kind))
    return _render(_episode(slug), failed=(kind, "new", form), status=400)


@bp.route("/episodes/<slug>/<kind>/<int:index>", methods=["POST"])
def save_item(slug: str, kind: str, index: int):
    episode = _episode(slug)
    form = _item_form(_kind(kind), index, formdata=True)
    if form.validate_on_submit():
        try:
            catalog_edit.update_item(_actor(), episode, kind, index, _values(kind, form))
        except DomainError as error:
            if error.status == 404:
                abort(404)
            _show_error(form, error)
        else:
            flash(str(ITEM_SAVED[kind]), "success")
            return redirect(_back(episode, kind))
    return _render(_episode(slug), failed=(kind, index, form), status=400)


@bp.route("/episodes/<slug>/<kind>/<int:index>/move", methods=["POST"])
def move_item(slug: str, kind: str, index: int):
    episode = _episode(slug)
    _kind(kind)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if _sent_whole_page():
        refused = _save_page(episode)
        if refused is not None:
            return refused
        episode = _episode(request.form.get("slug") or slug)
    try:
        catalog_edit.move_item(_actor(), episode, kind, index, request.form.get("direction", ""))
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    return redirect(_back(episode, kind))


def _chapter_index(episode: Episode, index: int) -> int:
    """Where the chapter sent as number `index` is after the page was saved."""
    title = (request.form.get(f"chapters-{index}-title") or "").strip()
    for position, chapter in enumerate(catalog_edit.document(episode).get("chapters", []), 1):
        if chapter.get("title") == title:
            return position
    return index


@bp.route("/episodes/<slug>/<kind>/<int:index>/delete", methods=["POST"])
def delete_item(slug: str, kind: str, index: int):
    episode = _episode(slug)
    _kind(kind)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if _sent_whole_page():
        refused = _save_page(episode)
        if refused is not None:
            return refused
        episode = _episode(request.form.get("slug") or slug)
        if kind == "chapters":
            # Saving keeps chapters in time order, which may have moved the one pressed.
            index = _chapter_index(episode, index)
    try:
        catalog_edit.delete_item(_actor(), episode, kind, index)
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(str(ITEM_DELETED[kind]), "success")
    return redirect(_back(episode, kind))


# --- Transcripts ---------------------------------------------------------------------------------


@bp.route("/episodes/<slug>/transcripts", methods=["POST"])
def upload_transcript(slug: str):
    episode = _episode(slug)
    form = TranscriptForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            catalog_edit.upload_transcript(
                _actor(), episode, form.language.data, upload.filename or "", upload.read()
            )
        except DomainError as error:
            add_domain_error(form, DomainError(error.message, field="file"))
        else:
            name = transcript_service.TRANSCRIPT_LANGUAGES[form.language.data]
            flash(_("The transcript in %(name)s is stored.", name=name), "success")
            return redirect(_back(episode, "transcripts"))
    return _render(_episode(slug), transcript_form=form, status=400)


@bp.route("/episodes/<slug>/transcripts/<language>/delete", methods=["POST"])
def delete_transcript(slug: str, language: str):
    episode = _episode(slug)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        catalog_edit.delete_transcript(_actor(), episode, language)
    except DomainError:
        abort(404)
    flash(_("The transcript is deleted."), "success")
    return redirect(_back(episode, "transcripts"))


@bp.before_request
def require_catalog_editor():
    # Besides the blueprint's admin check (which also sends visitors to sign in),
    # the catalog asks its own policy question.
    if (
        current_user.is_authenticated
        and (request.endpoint or "").removeprefix("admin.") in CATALOG_VIEWS
        and not policy.can_edit_catalog(current_user)
    ):
        abort(403)


CATALOG_VIEWS = {
    "episodes", "new_episode", "edit_episode", "delete_episode", "add_item", "save_item",
    "move_item", "delete_item", "upload_transcript", "delete_transcript",
}
