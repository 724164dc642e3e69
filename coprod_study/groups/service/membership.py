"""Joining and leaving a group, requests to join, members' roles and removal."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit, policy
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.groups.service.groups import MAX_MESSAGE, _now, new_invite_code
from coprod_study.models import (
    Membership,
    StudyGroup,
)
from coprod_study.notifications import service as notifications
from coprod_study.urls import path_for


def _existing(user, group) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id)
    )


def _refuse_existing(row: Membership | None) -> None:
    if row is None:
        return
    if row.status == "active":
        raise Conflict(_("You are already a member of this group."))
    if row.status == "pending":
        raise Conflict(_("Your request to join is waiting for a facilitator."))
    if row.status == "banned":
        raise Forbidden(_("You are banned from this group and cannot join it again."))


def _add_member(user, group, status: str, message: str | None = None) -> Membership:
    member = _existing(user, group)
    _refuse_existing(member)
    if member is None:
        member = Membership(group_id=group.id, user_id=user.id)
        db.session.add(member)
    # A removed member coming back starts over as a plain member.
    member.role, member.status, member.request_message = "member", status, message
    member.created_at = _now()
    try:
        db.session.commit()
    except IntegrityError as error:
        # A double click: the first request already made the row.
        db.session.rollback()
        raise Conflict(_("You are already a member of this group.")) from error
    policy.forget_memberships()
    return member


def join(user, group: StudyGroup, message: str | None = None) -> Membership:
    """Join an open group, or ask to join a request-to-join group."""
    if group.join_policy == "open":
        return _add_member(user, group, "active")
    if group.join_policy == "request":
        message = (message or "").strip()
        if len(message) > MAX_MESSAGE:
            raise DomainError(_("Keep the message under %(max)s characters.", max=MAX_MESSAGE), "message")
        member = _add_member(user, group, "pending", message or None)
        facilitators = db.session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group.id,
                Membership.status == "active",
                Membership.role == "facilitator",
            )
        ).all()
        notifications.notify(
            facilitators,
            "join_request",
            _l("%(name)s asks to join %(group)s", name=user.display_name, group=group.name),
            path_for("groups.members", slug=group.slug),
            group=group,
        )
        db.session.commit()
        return member
    raise NotFound(_("There is no such group."))


def group_for_invite(code: str) -> StudyGroup | None:
    if not code or len(code) > 64:
        return None
    return db.session.scalar(select(StudyGroup).where(StudyGroup.invite_code == code))


def join_by_invite(user, code: str) -> StudyGroup:
    group = group_for_invite(code)
    if group is None:
        raise NotFound(_("This invite link is not valid any more. Ask a facilitator for a new one."))
    _add_member(user, group, "active")
    return group


def reset_invite(actor, group: StudyGroup) -> str:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may reset the invite link."))
    group.invite_code = new_invite_code()
    audit.record(
        actor, "group.invite_reset", target=group, group=group, details={"group": group.slug}
    )
    db.session.commit()
    return group.invite_code


def leave(user, group: StudyGroup) -> None:
    row = _existing(user, group)
    # A removed or banned row is not a membership to leave; deleting a ban's row would
    # lift the ban.
    if not policy.is_inside(row):
        raise Conflict(_("You are not a member of this group."))
    if row.is_facilitator:
        others = db.session.scalar(
            select(func.count()).where(
                Membership.group_id == group.id,
                Membership.role == "facilitator",
                Membership.status == "active",
                Membership.user_id != user.id,
            )
        )
        if not others:
            raise Conflict(
                _(
                    "You are the group's only facilitator. Make another member a facilitator "
                    "before you leave."
                )
            )
    # Like a removed member, someone who leaves loses the group's unread notifications.
    notifications.withdraw_for_member(group, user.id)
    db.session.delete(row)
    db.session.commit()
    policy.forget_memberships()


def _member_row(group: StudyGroup, user_id: int) -> Membership:
    row = db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user_id)
    )
    if row is None:
        raise NotFound(_("This person is not in the group."))
    return row


def decide_request(actor, group, user_id: int, approve: bool, message: str | None = None):
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may decide join requests."))
    row = _member_row(group, user_id)
    if row.status != "pending":
        raise Conflict(_("This request was already decided."))
    message = (message or "").strip()[:MAX_MESSAGE] or None
    audit.record(
        actor,
        "group.request_approved" if approve else "group.request_declined",
        subject=row.user,
        target=group,
        group=group,
        details={"group": group.slug},
        reason=message,
    )
    if approve and message:
        text = _l(
            "Your request to join %(group)s was approved: %(message)s",
            group=group.name,
            message=message,
        )
    elif approve:
        text = _l("Your request to join %(group)s was approved.", group=group.name)
    elif message:
        text = _l(
            "Your request to join %(group)s was declined: %(message)s",
            group=group.name,
            message=message,
        )
    else:
        text = _l("Your request to join %(group)s was declined.", group=group.name)
    notifications.notify(
        [row.user_id],
        "join_decided",
        text,
        path_for("groups.show", slug=group.slug),
        group=group if approve else None,
    )
    if approve:
        row.status = "active"
        row.decided_at = _now()
        row.decision_message = message
    else:
        # Declining removes the request; the person may ask again later.
        db.session.delete(row)
    db.session.commit()
    policy.forget_memberships()
    return row


def set_member_role(actor, group, user_id: int, role: str) -> Membership:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may change roles."))
    row = _member_row(group, user_id)
    if row.status != "active":
        raise Conflict(_("Only active members can be promoted or demoted."))
    if role not in ("member", "facilitator"):
        raise DomainError(_("Unknown group role."))
    if row.role == role:
        return row
    if role == "member" and _facilitator_count(group) <= 1:
        raise Conflict(_("A group needs at least one facilitator."))
    audit.record(
        actor,
        "group.role_changed",
        subject=row.user,
        target=group,
        group=group,
        details={"group": group.slug, "from": row.role, "to": role},
    )
    row.role = role
    db.session.commit()
    policy.forget_memberships()
    return row


def _facilitator_count(group) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Membership.group_id == group.id,
            Membership.role == "facilitator",
            Membership.status == "active",
        )
    )


def check_removal(actor, group, user_id: int) -> Membership:
    """The membership `actor` may remove (asked before the confirmation step too).

    :raise Forbidden: not a facilitator.  :raise Conflict: yourself, already removed,
        or the last facilitator.
    """
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may remove members."))
    row = _member_row(group, user_id)
    if row.user_id == actor.id:
        raise Conflict(_("To leave the group yourself, use “Leave group”."))
    if row.status == "removed":
        raise Conflict(_("This person was already removed."))
    if row.is_facilitator and _facilitator_count(group) <= 1:
        raise Conflict(_("A group needs at least one facilitator."))
    return row


def remove_member(
    actor, group, user_id: int, reason: str | None = None, *, reset_invite: bool = False
) -> Membership:
    """Take a member out of the group. Removal is not a ban: the invite link (and, for an
    open or request group, the join button) still lets them back, unless `reset_invite`
    makes a new link in the same transaction."""
    row = check_removal(actor, group, user_id)
    row.status = "removed"
    row.role = "member"
    row.decided_at = _now()
    notifications.withdraw_for_member(group, row.user_id)
    audit.record(
        actor,
        "group.member_removed",
        subject=row.user,
        target=group,
        group=group,
        details={"group": group.slug},
        reason=(reason or "").strip()[:MAX_MESSAGE] or None,
    )
    if reset_invite:
        group.invite_code = new_invite_code()
        audit.record(
            actor, "group.invite_reset", target=group, group=group, details={"group": group.slug}
        )
    db.session.commit()
    policy.forget_memberships()
    return row


def members(group) -> list[Membership]:
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(Membership)
            .options(selectinload(Membership.user))
            .where(Membership.group_id == group.id)
            .order_by(Membership.status, Membership.role.desc(), Membership.created_at)
        )
    )
