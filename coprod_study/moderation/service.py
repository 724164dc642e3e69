"""Flags, hiding and restoring posts, bans; every action goes to the audit log."""

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit, policy
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    FLAG_REASONS,
    Answer,
    Flag,
    Membership,
    Post,
    Reply,
)
from coprod_study.notifications import service as notifications

TARGETS = {"answer": Answer, "reply": Reply, "post": Post}
MAX_REASON = 1_000


def _now() -> datetime:
    return datetime.now(UTC)


def get_target(group, target_type: str, target_id: int):
    """The answer, reply or thread post `target_id` in `group`.

    :raise NotFound: unknown type, or not in this group.
    """
    model = TARGETS.get(target_type)
    target = db.session.get(model, target_id) if model else None
    if target is None or policy.group_of(target).id != group.id:
        raise NotFound(_("There is no such post in this group."))
    return target


def _facilitator_ids(group) -> list[int]:
    return list(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group.id,
                Membership.status == "active",
                Membership.role == "facilitator",
            )
        )
    )


def target_url(group, target_type: str, target) -> str:
    from coprod_study.urls import path_for

    if target_type == "post":
        return path_for(
            "discussion.thread", slug=group.slug, thread_id=target.thread_id
        ) + f"#post-{target.id}"
    return path_for("moderation.queue", slug=group.slug)


def context_url(group, target_type: str, target) -> str:
    """Where a flagged or hidden post sits: its thread, or its question's answers."""
    from coprod_study.urls import path_for

    if target_type == "post":
        return target_url(group, target_type, target)
    answer_id = target.id if target_type == "answer" else target.answer_id
    return path_for("groups.answer_link", slug=group.slug, answer_id=answer_id)


def flag(reporter, group, target_type: str, target_id: int, reason: str, text: str = "") -> Flag:
    target = get_target(group, target_type, target_id)
    if target.user_id == reporter.id:
        raise DomainError(_("You cannot flag your own post."))
    if not policy.can_flag(reporter, target):
        raise Forbidden(_("Only members of this group can flag its posts."))
    if reason not in FLAG_REASONS:
        raise DomainError(_("Choose a reason."), field="reason")
    text = (text or "").strip()
    if reason == "other" and not text:
        raise DomainError(_("Say briefly what is wrong."), field="text")
    if len(text) > MAX_REASON:
        raise DomainError(_("Keep it under %(max)s characters.", max=MAX_REASON), field="text")
    item = Flag(
        group_id=group.id,
        reporter_id=reporter.id,
        target_type=target_type,
        target_id=target.id,
        reason=reason,
        text=text or None,
    )
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("You have already flagged this post.")) from error
    open_flags = db.session.scalar(
        select(func.count(func.distinct(Flag.reporter_id))).where(
            Flag.target_type == target_type,
            Flag.target_id == target.id,
            Flag.resolved_at.is_(None),
        )
    )
    threshold = current_app.config.get("FLAG_HIDE_THRESHOLD", 3)
    if target.hidden_at is None and threshold and open_flags >= threshold:
        target.hidden_at = _now()
        # Stored text, like a facilitator's reason: kept in English (see README, Translations).
        target.hidden_reason = f"Hidden automatically after {open_flags} flags; awaiting review."
        notifications.withdraw(target_type, target.id)
        _tell_author(group, target_type, target, target.hidden_reason)
        audit.record(
            None, f"{target_type}.auto_hidden", subject=target.author, target=target,
            group=group, details={"flags": open_flags}, reason=target.hidden_reason,
        )
    notifications.notify(
        _facilitator_ids(group),
        "flag",
        _flag_message(target_type, group, FLAG_REASONS[reason]),
        target_url(group, target_type, target),
        group=group,
        exclude=[reporter.id],
    )
    db.session.commit()
    return item



def _flag_message(target_type: str, group, reason):
    """What facilitators read, in their own language (see notifications.notify)."""
    if target_type == "answer":
        return _l("An answer in %(group)s was flagged: %(reason)s", group=group.name, reason=reason)
    if target_type == "reply":
        return _l("A reply in %(group)s was flagged: %(reason)s", group=group.name, reason=reason)
    return _l("A post in %(group)s was flagged: %(reason)s", group=group.name, reason=reason)


def _hidden_message(target_type: str, group, reason: str):
    """What the author reads, in their own language; the reason stays as it was written."""
    if target_type == "answer":
        return _l("A facilitator hid your answer in %(group)s: %(reason)s", group=group.name, reason=reason)
    if target_type == "reply":
        return _l("A facilitator hid your reply in %(group)s: %(reason)s", group=group.name, reason=reason)
    return _l("A facilitator hid your post in %(group)s: %(reason)s", group=group.name, reason=reason)


def _author_url(group, target_type: str, target) -> str:
    """Where the author finds the hidden post (they still see its text and the reason)."""
    from coprod_study.urls import path_for

    if target_type == "answer":
        return path_for("groups.answer_link", slug=group.slug, answer_id=target.id)
    if target_type == "reply":
        return path_for("groups.answer_link", slug=group.slug, answer_id=target.answer_id)
    return target_url(group, target_type, target)


def _tell_author(group, target_type: str, target, reason: str, exclude=()) -> None:
    """The author of a hidden post hears of it, with the reason, while they are a member."""
    author = target.author
    if author is None or author.deleted_at is not None or not policy.is_member(author, group):
        return
    notifications.notify(
        [author.id],
        "moderation",
        _hidden_message(target_type, group, reason),
        _author_url(group, target_type, target),
        group=group,
        thread=getattr(target, "thread", None),
        exclude=exclude,
    )


def _require_moderator(actor, group) -> None:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may moderate it."))


def hide(actor, group, target_type: str, target_id: int, reason: str) -> None:
    _require_moderator(actor, group)
    target = get_target(group, target_type, target_id)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Give a reason; the author will see it."), field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(_("Keep the reason under %(max)s characters.", max=MAX_REASON), field="reason")
    target.hidden_at = _now()
    target.hidden_reason = reason
    _resolve_flags(actor, target_type, target.id, "hidden")
    notifications.withdraw(target_type, target.id)
    _tell_author(group, target_type, target, reason, exclude=[actor.id])
    audit.record(
        actor, f"{target_type}.hidden", subject=target.author, target=target, group=group,
        reason=reason,
    )
    db.session.commit()


def restore(actor, group, target_type: str, target_id: int) -> None:
    _require_moderator(actor, group)
    target = get_target(group, target_type, target_id)
    if target.hidden_at is None:
        raise Conflict(_("This post is not hidden."))
    target.hidden_at = None
    target.hidden_reason = None
    _resolve_flags(actor, target_type, target.id, "restored")
    audit.record(actor, f"{target_type}.restored", subject=target.author, target=target, group=group)
    db.session.commit()


def dismiss_flags(actor, group, target_type: str, target_id: int) -> int:
    _require_moderator(actor, group)
    target = get_target(group, target_type, target_id)
    count = _resolve_flags(actor, target_type, target.id, "dismissed")
    audit.record(
        actor, "flags.dismissed", subject=target.author, target=target, group=group,
        details={"flags": count},
    )
    db.session.commit()
    return count


def _resolve_flags(actor, target_type: str, target_id: int, resolution: str) -> int:
    flags = db.session.scalars(
        select(Flag).where(
            Flag.target_type == target_type, Flag.target_id == target_id, Flag.resolved_at.is_(None)
        )
    ).all()
    for item in flags:
        item.resolved_at = _now()
        item.resolved_by_id = actor.id
        item.resolution = resolution
    return len(flags)


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
    policy.forget_memberships()
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
    for kind, model in TARGETS.items():
        in_group = _in_group(model, group)
        rows = db.session.scalars(
            select(model)
            .options(selectinload(model.author))
            .where(in_group, (model.hidden_at.is_not(None)) | (model.id.in_(wanted.get(kind, set()))))
        ).all()
        for row in rows:
            loaded[(kind, row.id)] = row
            if row.hidden_at is not None:
                hidden.append((kind, row))
    grouped: dict[tuple[str, int], FlaggedItem] = {}
    for item in flags:
        key = (item.target_type, item.target_id)
        if key in loaded:
            grouped.setdefault(key, FlaggedItem(item.target_type, loaded[key], [])).flags.append(item)
    return list(grouped.values()), hidden


def _in_group(model, group):
    from coprod_study.models import Thread

    if model is Answer:
        return Answer.group_id == group.id
    if model is Reply:
        return Reply.answer_id.in_(select(Answer.id).where(Answer.group_id == group.id))
    return Post.thread_id.in_(select(Thread.id).where(Thread.group_id == group.id))
