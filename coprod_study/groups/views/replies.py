"""Views for replies to an answer: replying, editing, deleting, history."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import policy
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error, keep_draft
from coprod_study.groups import answers as answer_service
from coprod_study.groups import bp
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import (
    ActionForm,
    ReplyForm,
)
from coprod_study.groups.views.answers import _answer, _question_of, _question_url, _render_question
from coprod_study.groups.views.common import _flash_error, _user, edit_post_page, load_group


@bp.route("/<slug>/answers/<int:answer_id>/replies", methods=["POST"])
@login_required
def reply(slug: str, answer_id: int):
    group = load_group(slug)
    answer = _answer(group, answer_id)
    form = ReplyForm()
    back = _question_url(group, answer)
    status = 400
    if form.validate_on_submit():
        try:
            created = answer_service.post_reply(
                _user(), answer, form.body.data, bool(form.anonymous.data)
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            flash(_("Your reply is posted."), "success")
            return redirect(back + f"#reply-{created.id}")
    elif back.split("#")[0] != url_for("groups.show", slug=group.slug) and keep_draft(
        f"reply:{answer.id}", form, ("body", "anonymous")
    ):
        # Back to the question with the message and what was typed (Post/Redirect/Get).
        return redirect(back.split("#")[0] + "#reply-draft", 303)
    return _reply_page(group, answer, form, back, status)


def _reply_page(group, answer, form, back: str, status: int):
    """A reply that was not posted, with its message: on its question's page, or on a
    page of its own when the person may not reply or the group no longer studies the episode."""
    question = None
    if status < 403:
        try:
            item = group_service.episode_of_answer(answer, group)
            question = _question_of(group, item, answer)
        except DomainError:
            question = None
    if question is None:
        return (
            render_template(
                "groups/edit_post.html",
                group=group,
                form=form,
                preview=None,
                kind="reply",
                back=back,
                action=url_for("groups.reply", slug=group.slug, answer_id=answer.id),
            ),
            status,
        )
    return _render_question(group, item, question, status=status, reply_draft=(answer, form))


def _reply(group, reply_id: int):
    try:
        item = answer_service.get_reply(group, reply_id)
    except DomainError:
        abort(404)
    if not answer_service.can_read_answer(current_user, item.answer):
        abort(404)
    return item


@bp.route("/<slug>/replies/<int:reply_id>/edit", methods=["GET", "POST"])
@login_required
def edit_reply(slug: str, reply_id: int):
    group = load_group(slug)
    item = _reply(group, reply_id)
    return edit_post_page(
        group,
        item,
        ReplyForm(obj=item),
        kind="reply",
        back=_question_url(group, item.answer),
        save=lambda body: answer_service.edit_reply(_user(), item, body),
        saved_message=_("Your reply is updated."),
    )


@bp.route("/<slug>/replies/<int:reply_id>/delete", methods=["POST"])
@login_required
def delete_reply(slug: str, reply_id: int):
    group = load_group(slug)
    item = _reply(group, reply_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        answer_service.delete_reply(_user(), item)
    except DomainError as error:
        _flash_error(error)
    else:
        flash(_("Your reply is deleted."), "info")
    return redirect(_question_url(group, item.answer))


@bp.route("/<slug>/replies/<int:reply_id>/history")
@login_required
def reply_history(slug: str, reply_id: int):
    group = load_group(slug)
    try:
        item = answer_service.get_reply(group, reply_id)
    except DomainError:
        abort(404)
    if not policy.can_see_history(current_user, group, item):
        abort(403)
    return render_template(
        "groups/history.html",
        group=group,
        post=item,
        revisions=answer_service.history(item),
        back=_question_url(group, item.answer),
    )
