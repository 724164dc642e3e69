"""Views for /reflections: the person's own log only; anyone else's is a 404, admins too."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.forms import add_domain_error
from coprod_study.models import Episode
from coprod_study.reflections import bp
from coprod_study.reflections import service as reflections
from coprod_study.reflections.forms import DeleteForm, ReflectionForm


def _episode(slug: str) -> Episode:
    episode = db.session.scalar(select(Episode).where(Episode.slug == slug))
    if episode is None:
        abort(404)
    return episode


@bp.route("")
@login_required
def index():
    return render_template(
        "reflections/index.html",
        reflections=reflections.my_reflections(current_user),
        delete_form=DeleteForm(),
    )


def _edit_page(episode, form, reflection=None, status=200):
    return (
        render_template(
            "reflections/edit.html",
            episode=episode,
            form=form,
            reflection=reflection,
            listened=reflections.has_listened(current_user, episode),
            prompts=reflections.prompts(episode, str(get_locale())),
        ),
        status,
    )


def _save(episode, form, reflection=None):
    if form.validate_on_submit():
        try:
            saved = reflections.save_reflection(current_user, episode, form.data)
        except DomainError as error:
            add_domain_error(form, error)
            return _edit_page(episode, form, reflection, error.status)
        flash(_("Your reflection is saved. Only you can see it."), "success")
        return redirect(url_for("reflections.show", reflection_id=saved.id))
    return _edit_page(episode, form, reflection, 400 if form.is_submitted() else 200)


@bp.route("/new/<slug>", methods=["GET", "POST"])
@login_required
def new(slug: str):
    episode = _episode(slug)
    existing = reflections.reflection_for(current_user, episode)
    if existing is not None:
        return redirect(url_for("reflections.show", reflection_id=existing.id))
    return _save(episode, ReflectionForm())


@bp.route("/<int:reflection_id>", methods=["GET", "POST"])
@login_required
def show(reflection_id: int):
    try:
        reflection = reflections.own_reflection(current_user, reflection_id)
    except DomainError:
        abort(404)
    return _save(reflection.episode, ReflectionForm(obj=reflection), reflection)


@bp.route("/<int:reflection_id>/delete", methods=["POST"])
@login_required
def delete(reflection_id: int):
    if not DeleteForm().validate_on_submit():
        abort(400)
    try:
        reflections.delete_reflection(current_user, reflection_id)
    except DomainError:
        abort(404)
    flash(_("Your reflection is deleted."), "success")
    return redirect(url_for("reflections.index"))
