"""What every /groups page shares: loading the group, the join prompt, the post edit page."""

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user

from coprod_study import policy
from coprod_study.catalog import sharing
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.groups import answers as answer_service
from coprod_study.groups import bp
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import (
    JoinForm,
)
from coprod_study.markup import render_markdown
from coprod_study.models import JOIN_POLICIES


class JoinPrompt(Exception):
    """The viewer may know the group but not read its content."""

    def __init__(self, group):
        self.group = group


@bp.app_errorhandler(JoinPrompt)
def show_join_prompt(error):
    return _public_page(error.group, status=403)


def _user():
    return current_user._get_current_object()


def load_group(slug: str, *, content: bool = True):
    """The group at `slug`, if the viewer may see it.

    :raise 404: no such group, or an invite-only group the viewer is not in.
    :raise JoinPrompt: the viewer may see the group's description but not its content.
    """
    try:
        group = group_service.get_group(slug, current_user)
    except DomainError:
        abort(404)
    if not policy.can_know_group(current_user, group):
        abort(404)
    if content and not policy.can_view_group(current_user, group):
        raise JoinPrompt(group)
    return group


def require_moderator(group) -> None:
    if not policy.can_moderate(current_user, group):
        abort(403)


def _public_page(group, status=200, join_form=None):
    return (
        render_template(
            "groups/public.html",
            group=group,
            membership=policy.membership(current_user, group),
            join_form=join_form or JoinForm(),
            member_count=group_service.member_counts([group.id]).get(group.id, 0),
            policies=JOIN_POLICIES,
            # Only the group's own page is shared; a join prompt in place of a
            # member page (403) is not.
            card=sharing.group_card(group) if status == 200 else None,
        ),
        status,
    )


def _flash_error(error: DomainError) -> None:
    flash(error.message, "error")


def _back(default: str) -> str:
    target = request.form.get("next")
    from coprod_study.security import is_safe_next

    return target if is_safe_next(target) else default


# --- Episodes and questions ----------------------------------------------------------


def _episode(group, slug: str):
    # A NotFound from the service is shown as a 404 with its message.
    return group_service.get_group_episode(group, slug)


def _answer_summary(group) -> dict:
    counts, answered = answer_service.answer_summary(current_user, group)
    return {"counts": counts, "answered": answered}


def edit_post_page(group, post, form, *, kind: str, back: str, save, saved_message):
    """The shared edit page of an answer, reply or thread post: preview, save, errors.

    `save(body)` calls the service; it raises DomainError for a form message.
    """
    if not policy.can_edit_post(current_user, post):
        abort(403)
    preview = None
    if form.validate_on_submit():
        if request.form.get("action") == "preview":
            preview = render_markdown(form.body.data)
        else:
            try:
                save(form.body.data)
            except DomainError as error:
                add_domain_error(form, error)
            else:
                flash(saved_message, "success")
                return redirect(back + f"#{kind}-{post.id}")
    return (
        render_template(
            "groups/edit_post.html", group=group, form=form, preview=preview, kind=kind, back=back
        ),
        400 if form.errors else 200,
    )
