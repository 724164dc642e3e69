"""Views for a group's members: the list, requests, roles, removal and the invite link."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import policy
from coprod_study.errors import DomainError
from coprod_study.groups import bp
from coprod_study.groups import service as group_service
from coprod_study.groups.forms import (
    ActionForm,
    DecisionForm,
)
from coprod_study.groups.views.common import _flash_error, _user, load_group, require_moderator

# --- Members -------------------------------------------------------------------


@bp.route("/<slug>/members")
def members(slug: str):
    from coprod_study.courses.service import group_educators

    group = load_group(slug)
    rows = group_service.members(group)
    return render_template(
        "groups/members.html",
        group=group,
        educators=group_educators(group),
        active=[m for m in rows if m.status == "active"],
        pending=[m for m in rows if m.status == "pending"],
        removed=[m for m in rows if m.status == "removed"],
        moderator=policy.can_moderate(current_user, group),
        decision_form=DecisionForm(),
        action_form=ActionForm(),
        invite_url=url_for("groups.join_by_invite", invite=group.invite_code, _external=True),
    )


@bp.route("/<slug>/members/<int:user_id>/<action>", methods=["POST"])
@login_required
def member_action(slug: str, user_id: int, action: str):
    group = load_group(slug)
    require_moderator(group)
    if action not in _MEMBER_HANDLERS:
        abort(404)
    form = DecisionForm()
    if not form.validate_on_submit():
        flash("; ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("groups.members", slug=group.slug))
    try:
        shown = _MEMBER_HANDLERS[action](_user(), group, user_id, action, form)
    except DomainError as error:
        _flash_error(error)
    else:
        if shown is not None:
            return shown
    return redirect(url_for("groups.members", slug=group.slug))


def _decide(actor, group, user_id: int, action: str, form) -> None:
    row = group_service.decide_request(actor, group, user_id, action == "approve", form.message.data)
    flash(
        _("%(display_name)s is now a member.", display_name=row.user.display_name)
        if action == "approve"
        else _("The request is declined."),
        "success",
    )


def _remove(actor, group, user_id: int, action: str, form):
    if request.form.get("confirm") != "yes":
        # Removing asks first (no script needed), and says what removal does not do.
        row = group_service.check_removal(actor, group, user_id)
        return render_template(
            "groups/remove_confirm.html", group=group, member=row,
            reason=form.message.data or "", action_form=ActionForm(),
        )
    reset = bool(request.form.get("reset_invite"))
    row = group_service.remove_member(actor, group, user_id, form.message.data, reset_invite=reset)
    name = row.user.display_name
    if reset:
        flash(_("%(display_name)s is removed from the group, and the invite link is new: "
                "the old one no longer works for anyone.", display_name=name), "success")
    else:
        flash(_("%(display_name)s is removed from the group. The invite link still works for "
                "them: make a new link or ban them to keep them out.", display_name=name),
              "success")
    return None


def _set_role(actor, group, user_id: int, action: str, form) -> None:
    role = "facilitator" if action == "promote" else "member"
    row = group_service.set_member_role(actor, group, user_id, role)
    if role == "facilitator":
        message = _("%(name)s is now a facilitator.", name=row.user.display_name)
    else:
        message = _("%(name)s is now a member.", name=row.user.display_name)
    flash(message, "success")


# Each action on a member: flashes what it did, or returns a page to show instead.
_MEMBER_HANDLERS = {
    "approve": _decide,
    "decline": _decide,
    "remove": _remove,
    "promote": _set_role,
    "demote": _set_role,
}


@bp.route("/<slug>/invite/reset", methods=["POST"])
@login_required
def reset_invite(slug: str):
    group = load_group(slug)
    require_moderator(group)
    if not ActionForm().validate_on_submit():
        abort(400)
    group_service.reset_invite(_user(), group)
    flash(_("The invite link is new; the old one no longer works."), "success")
    return redirect(url_for("groups.members", slug=group.slug))
