"""Views for /admin/episodes: the catalog edited in the browser, checked like the catalog file."""

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from coprod_study import policy
from coprod_study.admin import bp
from coprod_study.admin.episode_forms import (
    ITEM_FORMS,
    ITEM_LABELS,
    SECTION_TITLES,
    EpisodeForm,
    TranscriptForm,
)
from coprod_study.catalog import editing as catalog_edit
from coprod_study.catalog import transcript as transcript_service
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.forms import add_domain_error
from coprod_study.models import Answer, Dimension, Episode, StudyQuestion


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
