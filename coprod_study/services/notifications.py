"""In-app notifications: bulk fan-out, reading, marking read."""

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, update

from coprod_study.extensions import db
from coprod_study.models import NOTIFICATION_KINDS, Notification

MAX_MESSAGE = 300


def notify(
    user_ids: Iterable[int],
    kind: str,
    message: str,
    url: str,
    *,
    group=None,
    thread=None,
    target_type: str | None = None,
    target_id: int | None = None,
    exclude: Iterable[int] = (),
) -> int:
    """Add one notification per recipient in a single INSERT, inside the caller's
    transaction (the caller commits). Returns how many were added."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    skip = set(exclude)
    recipients = sorted({uid for uid in user_ids if uid is not None and uid not in skip})
    if not recipients:
        return 0
    now = datetime.now(UTC)
    text = message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"
    rows = [
        {
            "user_id": uid,
            "kind": kind,
            "message": text,
            "url": url,
            "group_id": getattr(group, "id", None),
            "thread_id": getattr(thread, "id", None),
            "target_type": target_type,
            "target_id": target_id,
            "created_at": now,
        }
        for uid in recipients
    ]
    db.session.execute(insert(Notification), rows)
    return len(rows)


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return db.session.scalar(
        select(func.count()).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def list_stmt(user):
    return (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )


def mark_read(user, notification_id: int | None = None) -> int:
    """Mark one (or, with None, every) notification of `user` as read."""
    stmt = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        stmt = stmt.where(Notification.id == notification_id)
    result = db.session.execute(stmt.values(read_at=datetime.now(UTC)))
    db.session.commit()
    return result.rowcount


def withdraw(target_type: str, target_id: int) -> None:
    """Remove unread notifications about something that was hidden or deleted."""
    db.session.execute(
        Notification.__table__.delete().where(
            Notification.target_type == target_type,
            Notification.target_id == target_id,
            Notification.read_at.is_(None),
        )
    )


def withdraw_for_member(group, user_id: int) -> None:
    """A person who lost access to a group loses its unread notifications too."""
    db.session.execute(
        Notification.__table__.delete().where(
            Notification.user_id == user_id,
            Notification.group_id == group.id,
            Notification.read_at.is_(None),
        )
    )
