"""Views for a group's episodes and its own questions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import policy
from coprod_study.courses import service as course_service
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.groups import bp
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import (
    ActionForm,
    QuestionForm,
)
from coprod_study.groups.views.common import (
    _answer_summary,
    _episode,
    _user,
    load_group,
    require_moderator,
)


@bp.route("/<slug>/episodes/<episode_slug>")
def episode(slug: str, episode_slug: str):
    group = load_group(slug)
    item = _episode(group, episode_slug)
    extras = group_service.extra_questions(group, [item.id])
    questions = group_service.questions_for(item, extras)
    return render_template(
        "groups/episode.html",
        group=group,
        episode=item,
        questions=questions,
        **_answer_summary(group),
        **_moments(group, item),
        moderator=policy.can_moderate(current_user, group),
        question_form=QuestionForm(),
        action_form=ActionForm(),
        assigned=course_service.group_assignment(group, item, current_user),
    )


def _moments(group, item) -> dict:
    """The moments the group quoted, and whether the episode has a transcript to quote from."""
    from coprod_study.catalog import transcript as transcript_service

    return {
        "moments": transcript_service.moments_discussed(group, item),
        "has_transcript": transcript_service.has_transcript(item),
    }


@bp.route("/<slug>/episodes/<episode_slug>/questions", methods=["POST"])
@login_required
def add_question(slug: str, episode_slug: str):
    group = load_group(slug)
    require_moderator(group)
    item = _episode(group, episode_slug)
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            group_service.add_extra_question(_user(), group, item, form.prompt.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("Your question is added for this group."), "success")
            return redirect(url_for("groups.episode", slug=group.slug, episode_slug=item.slug))
    extras = group_service.extra_questions(group, [item.id])
    questions = group_service.questions_for(item, extras)
    return (
        render_template(
            "groups/episode.html",
            group=group,
            episode=item,
            questions=questions,
            **_answer_summary(group),
            **_moments(group, item),
            moderator=True,
            question_form=form,
            action_form=ActionForm(),
            assigned=course_service.group_assignment(group, item, current_user),
        ),
        400,
    )


@bp.route("/<slug>/questions/<int:question_id>/edit", methods=["GET", "POST"])
@login_required
def edit_question(slug: str, question_id: int):
    group = load_group(slug)
    require_moderator(group)
    try:
        question = group_service.get_extra_question(group, question_id)
    except DomainError:
        abort(404)
    form = QuestionForm(obj=question)
    if form.validate_on_submit():
        try:
            group_service.edit_extra_question(_user(), group, question_id, form.prompt.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("The question is saved."), "success")
            return redirect(
                url_for("groups.episode", slug=group.slug, episode_slug=question.episode.slug)
            )
    return (
        render_template("groups/edit_question.html", group=group, question=question, form=form),
        400 if form.errors else 200,
    )


@bp.route("/<slug>/questions/<int:question_id>/move", methods=["POST"])
@login_required
def move_question(slug: str, question_id: int):
    group = load_group(slug)
    require_moderator(group)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        question = group_service.get_extra_question(group, question_id)
        group_service.move_extra_question(
            _user(), group, question_id, request.form.get("direction", "")
        )
    except DomainError:
        abort(404)
    return redirect(url_for("groups.episode", slug=group.slug, episode_slug=question.episode.slug))
