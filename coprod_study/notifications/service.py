"""In-app notifications: bulk fan-out, reading, marking read."""

from collections.abc import Iterable
from datetime import UTC, datetime

from flask_babel import force_locale
from flask_babel.speaklater import LazyString
from sqlalchemy import func, insert, select, update

from coprod_study.extensions import db
from coprod_study.i18n import DEFAULT_LANGUAGE, SUPPORTED
from coprod_study.models import NOTIFICATION_KINDS, Notification, User

MAX_MESSAGE = 300


def notify(
    user_ids: Iterable[int],
    kind: str,
    message: str | LazyString,
    url: str,
    *,
    group=None,
    thread=None,
    target_type: str | None = None,
    target_id: int | None = None,
    exclude: Iterable[int] = (),
) -> int:
    """Add one notification per recipient in a single INSERT, inside the caller's
    transaction (the caller commits). Returns how many were added.

    The message is stored as text. Given a lazy string (lazy_gettext with its
    values), it is written in each recipient's own language; a plain string is
    stored as it is."""
    if kind not in NOTIFICATION_KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    skip = set(exclude)
    recipients = sorted({uid for uid in user_ids if uid is not None and uid not in skip})
    if not recipients:
        return 0
    now = datetime.now(UTC)
    texts = _texts_by_recipient(message, recipients)
    rows = [
        {
            "user_id": uid,
            "kind": kind,
            "message": texts[uid],
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


def _shorten(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _texts_by_recipient(message, recipients: list[int]) -> dict[int, str]:
    if not isinstance(message, LazyString):
        text = _shorten(message)
        return dict.fromkeys(recipients, text)
    languages = dict(
        db.session.execute(select(User.id, User.language).where(User.id.in_(recipients))).all()
    )
    rendered: dict[str, str] = {}
    texts = {}
    for uid in recipients:
        language = languages.get(uid)
        if language not in SUPPORTED:
            language = DEFAULT_LANGUAGE
        if language not in rendered:
            with force_locale(language):
                rendered[language] = _shorten(str(message))
        texts[uid] = rendered[language]
    return texts


def unread_count_column():
    """The signed-in person's unread count as a column, loaded with them (see load_user)."""
    from coprod_study.models import User

    return (
        select(func.count())
        .where(Notification.user_id == User.id, Notification.read_at.is_(None))
        .correlate(User)
        .scalar_subquery()
    )


def remember_unread_count(user, count: int) -> None:
    user.__dict__["_unread_count"] = count


def unread_count(user) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    known = user.__dict__.get("_unread_count")
    if known is not None:
        return known
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
    user.__dict__.pop("_unread_count", None)
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
    withdraw_for_groups([group.id], user_id)


def withdraw_for_groups(group_ids, user_id: int) -> None:
    """The same for several groups (a list of ids or a select of them)."""
    db.session.execute(
        Notification.__table__.delete().where(
            Notification.user_id == user_id,
            Notification.group_id.in_(group_ids),
            Notification.read_at.is_(None),
        )
    )
