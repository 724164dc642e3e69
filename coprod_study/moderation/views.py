"""Views for /groups/<slug>/moderation and the flag/hide/restore actions."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import ActionForm
from coprod_study.groups.views.common import load_group, require_moderator
from coprod_study.models import AuditEntry
from coprod_study.moderation import bp
from coprod_study.moderation import service as moderation
from coprod_study.security import is_safe_next

# Longer posts start folded in the queue: one long post should not bury the rest.
LONG_POST = 600


def _user():
    return current_user._get_current_object()


def _back(group) -> str:
    target = request.form.get("next") or request.referrer or ""
    # The referrer is a full URL; keep only a same-site path.
    if target.startswith(request.host_url):
        target = "/" + target[len(request.host_url):]
    return target if is_safe_next(target) else url_for("moderation.queue", slug=group.slug)


def _checked_form():
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.route("/<slug>/moderation")
@login_required
def queue(slug: str):
    group = load_group(slug)
    require_moderator(group)
    return _queue_page(group)


def _queue_page(group, hide_error=None):
    """The queue; `hide_error` is (target_type, target_id, message, typed reason) for a
    Hide form that came back, so its message shows next to its field with the text kept."""
    flagged, hidden = moderation.moderation_queue(group)
    if hide_error and not any(
        (item.target_type, item.target.id) == hide_error[:2] for item in flagged
    ):
        flash(hide_error[2], "error")  # its form is not on this page: say it at the top
    pending = [m for m in group_service.members(group) if m.status == "pending"]
    log = db.session.scalars(
        select(AuditEntry)
        .options(selectinload(AuditEntry.actor), selectinload(AuditEntry.subject))
        .where(AuditEntry.group_id == group.id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(50)
    ).all()
    return render_template(
        "moderation/queue.html",
        group=group,
        flagged=flagged,
        hidden=hidden,
        pending=pending,
        log=log,
        action_form=ActionForm(),
        hide_error=hide_error,
        context_url=lambda kind, post: moderation.context_url(group, kind, post),
        collapse_after=LONG_POST,
    )


@bp.route("/<slug>/flag/<target_type>/<int:target_id>", methods=["POST"])
@login_required
def flag(slug: str, target_type: str, target_id: int):
    group = load_group(slug)
    _checked_form()
    try:
        moderation.flag(
            _user(),
            group,
            target_type,
            target_id,
            request.form.get("reason", ""),
            request.form.get("text", ""),
        )
    except DomainError as error:
        flash(error.message, "error")
        if error.status in (403, 404):
            abort(error.status)
        return redirect(_back(group)), 303
    flash(_("Thank you. The facilitators will look at it."), "success")
    return redirect(_back(group))


@bp.route("/<slug>/hide/<target_type>/<int:target_id>", methods=["POST"])
@login_required
def hide(slug: str, target_type: str, target_id: int):
    group = load_group(slug)
    require_moderator(group)
    _checked_form()
    reason = request.form.get("reason", "")
    try:
        moderation.hide(_user(), group, target_type, target_id, reason)
    except DomainError as error:
        if error.status == 404:
            abort(404)
        if error.field == "reason" and _back(group) == url_for("moderation.queue", slug=group.slug):
            # Hidden from the queue: answer with the queue itself, the message by the field.
            return _queue_page(group, (target_type, target_id, error.message, reason)), 400
        flash(error.message, "error")
    else:
        flash(_("The post is hidden. Its author sees your reason."), "success")
    return redirect(_back(group))


@bp.route("/<slug>/restore/<target_type>/<int:target_id>", methods=["POST"])
@login_required
def restore(slug: str, target_type: str, target_id: int):
    group = load_group(slug)
    require_moderator(group)
    _checked_form()
    try:
        moderation.restore(_user(), group, target_type, target_id)
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(_("The post is visible again."), "success")
    return redirect(_back(group))


@bp.route("/<slug>/dismiss/<target_type>/<int:target_id>", methods=["POST"])
@login_required
def dismiss(slug: str, target_type: str, target_id: int):
    group = load_group(slug)
    require_moderator(group)
    _checked_form()
    try:
        moderation.dismiss_flags(_user(), group, target_type, target_id)
    except DomainError:
        abort(404)
    flash(_("The flags are dismissed."), "success")
    return redirect(url_for("moderation.queue", slug=group.slug))


@bp.route("/<slug>/members/<int:user_id>/ban", methods=["POST"])
@login_required
def ban(slug: str, user_id: int):
    group = load_group(slug)
    require_moderator(group)
    _checked_form()
    try:
        row = moderation.ban(_user(), group, user_id, request.form.get("message", ""))
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(_("%(display_name)s is banned from the group.", display_name=row.user.display_name), "success")
    return redirect(url_for("groups.members", slug=group.slug))
