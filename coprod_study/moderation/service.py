"""Flags, hiding and restoring posts (over the post kernel), bans, the queue; every action is audited."""

from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from coprod_study import audit, policy
from coprod_study.errors import Conflict, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Flag,
    Membership,
)
from coprod_study.notifications import service as notifications
from coprod_study.posts import kernel
from coprod_study.posts.kinds import kind, kinds

MAX_REASON = kernel.MAX_REASON


def _now() -> datetime:
    return datetime.now(UTC)


def get_target(group, target_type: str, target_id: int):
    """The answer, reply or thread post `target_id` in `group`.

    :raise NotFound: unknown type, or not in this group.
    """
    target = kernel.get(group, target_type, target_id)
    if target is None:
        raise NotFound(_("There is no such post in this group."))
    return target


def target_url(group, target_type: str, target) -> str:
    """Where facilitators are sent about a flag: the thread post, or the queue."""
    from coprod_study.urls import path_for

    if target_type == "post":
        return kind(target_type).read_url(group, target)
    return path_for("moderation.queue", slug=group.slug)


def context_url(group, target_type: str, target) -> str:
    """Where a flagged or hidden post sits: its thread, or its question's answers."""
    return kind(target_type).read_url(group, target)


def flag(reporter, group, target_type: str, target_id: int, reason: str, text: str = "") -> Flag:
    target = get_target(group, target_type, target_id)
    return kernel.flag(reporter, group, target, reason, text,
                       facilitator_url=target_url(group, target_type, target))


def _require_moderator(actor, group) -> None:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may moderate it."))


def hide(actor, group, target_type: str, target_id: int, reason: str) -> None:
    _require_moderator(actor, group)
    kernel.hide(actor, group, get_target(group, target_type, target_id), reason)


def restore(actor, group, target_type: str, target_id: int) -> None:
    _require_moderator(actor, group)
    kernel.restore(actor, group, get_target(group, target_type, target_id))


def dismiss_flags(actor, group, target_type: str, target_id: int) -> int:
    _require_moderator(actor, group)
    target = get_target(group, target_type, target_id)
    count = kernel.resolve_flags(actor, target, "dismissed")
    audit.record(
        actor, "flags.dismissed", subject=target.author, target=target, group=group,
        details={"flags": count},
    )
    db.session.commit()
    return count


def ban(actor, group, user_id: int, reason: str | None = None) -> Membership:
    """Remove a person for good: no link, request or open door lets them back in."""
    _require_moderator(actor, group)
    row = db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user_id)
    )
    if row is None:
        raise NotFound(_("This person is not in the group."))
    if row.user_id == actor.id:
        raise Conflict(_("You cannot ban yourself."))
    if row.status == "banned":
        raise Conflict(_("This person is already banned."))
    row.status = "banned"
    row.role = "member"
    row.decided_at = _now()
    notifications.withdraw_for_member(group, row.user_id)
    audit.record(
        actor, "group.member_banned", subject=row.user, target=group, group=group,
        reason=(reason or "").strip()[:MAX_REASON] or None,
    )
    db.session.commit()
    return row


@dataclass
class FlaggedItem:
    target_type: str
    target: object
    flags: list


def moderation_queue(group) -> tuple[list[FlaggedItem], list[tuple[str, object]]]:
    """Open flags grouped by post, and hidden posts, in a fixed number of queries."""
    from sqlalchemy.orm import selectinload

    flags = db.session.scalars(
        select(Flag)
        .options(selectinload(Flag.reporter))
        .where(Flag.group_id == group.id, Flag.resolved_at.is_(None))
        .order_by(Flag.created_at)
    ).all()
    wanted: dict[str, set[int]] = {}
    for item in flags:
        wanted.setdefault(item.target_type, set()).add(item.target_id)
    hidden: list[tuple[str, object]] = []
    loaded: dict[tuple[str, int], object] = {}
    for name, post_kind in kinds().items():
        model = post_kind.model
        in_group = post_kind.in_group(group.id)
        rows = db.session.scalars(
            select(model)
            .options(selectinload(model.author))
            .where(in_group, (model.hidden_at.is_not(None)) | (model.id.in_(wanted.get(name, set()))))
        ).all()
        for row in rows:
            loaded[(name, row.id)] = row
            if row.hidden_at is not None:
                hidden.append((name, row))
    grouped: dict[tuple[str, int], FlaggedItem] = {}
    for item in flags:
        key = (item.target_type, item.target_id)
        if key in loaded:
            grouped.setdefault(key, FlaggedItem(item.target_type, loaded[key], [])).flags.append(item)
    return list(grouped.values()), hidden
