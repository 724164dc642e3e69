"""Views for one item of an episode (guest, takeaway, question, reference, chapter) and its transcripts."""

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from coprod_study.admin import bp
from coprod_study.admin.episode_forms import ITEM_ADDED, ITEM_DELETED, ITEM_SAVED, TranscriptForm
from coprod_study.admin.episodes import (
    _actor,
    _episode,
    _item_form,
    _kind,
    _render,
    _save_page,
    _sent_whole_page,
    _show_error,
    _values,
)
from coprod_study.catalog import editing as catalog_edit
from coprod_study.catalog import transcript as transcript_service
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.models import Episode


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
