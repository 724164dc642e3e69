"""E-mail about notifications: immediate mails and daily or weekly digests, sent at most once."""

from collections import OrderedDict
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale, gettext, ngettext
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from coprod_study.extensions import db
from coprod_study.i18n import language_of
from coprod_study.mail.outgoing import queue_mail
from coprod_study.models import DigestRun, Notification, StudyGroup, Thread, User
from coprod_study.urls import path_for

UNSUBSCRIBE_SALT = "unsubscribe"
SENDING_PREFERENCES = ("immediately", "daily", "weekly")


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id})


def user_for_unsubscribe_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    uid = data.get("uid") if isinstance(data, dict) else None
    return db.session.get(User, uid) if isinstance(uid, int) else None


def unsubscribe(user: User) -> None:
    user.email_preference = "off"
    db.session.commit()


def unsubscribe_url(user: User) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path_for(
        "notifications.unsubscribe", token=unsubscribe_token(user)
    )


def period_key(user: User, now: datetime, first_id: int) -> str:
    """The digest period `now` falls in, in the person's own time zone."""
    try:
        local = now.astimezone(ZoneInfo(user.time_zone))
    except (KeyError, ValueError):
        local = now
    if user.email_preference == "daily":
        return f"d:{local.date().isoformat()}"
    if user.email_preference == "weekly":
        year, week, _ = local.isocalendar()
        return f"w:{year}-W{week:02d}"
    # Immediate mails: one per batch, keyed by the first notification in it.
    return f"i:{first_id}"


def _assignments_due(user: User) -> list:
    """The person's unfinished assignments due within a week."""
    from coprod_study.courses.due import due_within

    return list(due_within(user, days=7))


def _claim_and_queue(user: User, now: datetime) -> bool:
    """Mark the person's pending notifications as e-mailed, record the run and write
    the mail to the outbox, in one transaction. A run that already exists for this
    period means: already sent (or being sent by another worker)."""
    pending = db.session.scalars(
        select(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
            Notification.emailed_at.is_(None),
        )
        .order_by(Notification.id)
    ).all()
    if not pending:
        db.session.rollback()
        return False
    run = DigestRun(
        user_id=user.id,
        period=period_key(user, now, pending[0].id),
        notification_count=len(pending),
        sent_at=now,
    )
    try:
        db.session.add(run)
        db.session.flush()
        db.session.execute(
            update(Notification)
            .where(Notification.id.in_([n.id for n in pending]))
            .values(emailed_at=now)
        )
        with force_locale(language_of(user)):
            subject, text, html = _render_digest(user, pending)
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url(user)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
        headers.update(_reply_headers(user, pending))
        queue_mail(user.email, subject, text, html, headers=headers, kind="digest")
        db.session.commit()
    except IntegrityError:
        # This period's digest went out already (or another run is queuing it).
        db.session.rollback()
        return False
    return True


def _reply_headers(user: User, pending: list[Notification]) -> dict:
    """A mail about one answer, reply or thread post can be answered by e-mail."""
    if len(pending) != 1 or user.email_preference != "immediately":
        return {}
    from coprod_study.mail import addresses

    address = addresses.reply_address(user, pending[0])
    return {"Reply-To": address} if address else {}


def _sections(user: User, notifications: list[Notification]):
    """Group by group, then by thread, keeping newest-first order inside.

    A group the person may no longer know (they left an invite-only group) is not
    named: its heading would give away a name it was given since."""
    from coprod_study import policy

    group_ids = {n.group_id for n in notifications if n.group_id}
    thread_ids = {n.thread_id for n in notifications if n.thread_id}
    groups = {
        g.id: g for g in db.session.scalars(select(StudyGroup).where(StudyGroup.id.in_(group_ids)))
    }
    threads = {
        t.id: t for t in db.session.scalars(select(Thread).where(Thread.id.in_(thread_ids)))
    }
    sections: OrderedDict = OrderedDict()
    for item in sorted(notifications, key=lambda n: n.id, reverse=True):
        group = groups.get(item.group_id)
        thread = threads.get(item.thread_id)
        thread_title = thread.title if thread else None
        if group is None:
            group_name = gettext("Your account")
        elif policy.can_know_group(user, group):
            group_name = group.name
        else:
            group_name, thread_title = gettext("a group you left"), None
        sections.setdefault(group_name, OrderedDict()).setdefault(thread_title, []).append(item)
    return sections


def send_digest(user: User, now: datetime) -> bool:
    return _claim_and_queue(user, now)


def _render_digest(user: User, pending: list[Notification]) -> tuple[str, str, str]:
    """Subject, text and HTML of the mail, in the current (the person's) language."""
    base = current_app.config["BASE_URL"].rstrip("/")
    context = {
        "user": user,
        "sections": _sections(user, pending),
        "count": len(pending),
        "assignments": _assignments_due(user),
        "base": base,
        "unsubscribe": unsubscribe_url(user),
        "site_name": current_app.config["SITE_NAME"],
        "immediate": user.email_preference == "immediately",
    }
    if len(pending) == 1 and context["immediate"]:
        subject = pending[0].message
    else:
        subject = ngettext(
            "%(num)d new notification on %(site)s",
            "%(num)d new notifications on %(site)s",
            len(pending),
            site=context["site_name"],
        )
    return (
        subject,
        render_template("email/digest.txt", **context),
        render_template("email/digest.html", **context),
    )


def send_digests(now: datetime | None = None) -> int:
    """Send every person who is due their mail; returns how many were sent."""
    now = now or datetime.now(UTC)
    user_ids = db.session.scalars(
        select(Notification.user_id)
        .join(User, User.id == Notification.user_id)
        .where(
            Notification.read_at.is_(None),
            Notification.emailed_at.is_(None),
            User.email_preference.in_(SENDING_PREFERENCES),
        )
        .distinct()
    ).all()
    db.session.rollback()
    sent = 0
    for user in db.session.scalars(
        select(User).where(User.id.in_(user_ids)).order_by(User.id)
    ).all():
        if send_digest(user, now):
            sent += 1
    return sent
