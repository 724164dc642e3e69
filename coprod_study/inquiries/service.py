"""Inquiries to the team from /contact: spam guards, storing, notifying admins, replying."""

import logging
import time
from datetime import UTC, datetime

from flask import current_app
from flask_babel import force_locale, format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from coprod_study import audit, throttle
from coprod_study.account.service import normalize_email
from coprod_study.errors import DomainError, RateLimited
from coprod_study.extensions import db
from coprod_study.i18n import language_of
from coprod_study.mail.outgoing import queue_mail
from coprod_study.models import INQUIRY_STATUSES, Inquiry, User
from coprod_study.notifications import service as notifications
from coprod_study.urls import path_for

log = logging.getLogger(__name__)

MAX_NAME = 120
MAX_SUBJECT = 200
MAX_MESSAGE = 5_000
MAX_REPLY = 10_000
FORM_SALT = "contact-form"
# A form filled in faster than this was not filled in by a person.
MIN_SECONDS = 3
FORM_MAX_AGE = 24 * 3600


def _now() -> datetime:
    return datetime.now(UTC)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=FORM_SALT)


def form_stamp() -> str:
    """A signed note of when the form was shown, for its hidden field."""
    return _serializer().dumps(int(time.time()))


def _seconds_on_form(stamp: str | None) -> float:
    """:raise DomainError: the stamp is missing, forged or older than a day."""
    try:
        shown = _serializer().loads(stamp or "", max_age=FORM_MAX_AGE)
    except (BadSignature, SignatureExpired) as error:
        raise DomainError(
            _("This form is too old or incomplete. Please check your message and send it again.")
        ) from error
    if not isinstance(shown, int) or time.time() - shown > FORM_MAX_AGE:
        raise DomainError(
            _("This form is too old or incomplete. Please check your message and send it again.")
        )
    return time.time() - shown


def _clean(value: str | None, field: str, missing: str, limit: int) -> str:
    """`missing` is what to say when the field is empty."""
    value = (value or "").strip()
    if not value:
        raise DomainError(missing, field=field)
    if len(value) > limit:
        raise DomainError(
            _("Use at most %(limit)s characters.", limit=format_number(limit)), field=field
        )
    if "\x00" in value:
        raise DomainError(_("This text has a character that cannot be stored."), field=field)
    return value


def submit(
    *,
    name: str,
    email: str,
    subject: str,
    message: str,
    stamp: str | None,
    honeypot: str | None,
    remote_addr: str | None,
) -> Inquiry | None:
    """Store an inquiry and tell the admins. None when a guard says it came from a bot.

    :raise DomainError: a field is missing or too long, or the form is stale or too quick.
    :raise RateLimited: too many inquiries from this address or this network address.
    """
    name = " ".join(_clean(name, "name", _("Enter your name."), MAX_NAME).split())
    address = normalize_email(email)
    subject = " ".join(_clean(subject, "subject", _("Enter a subject."), MAX_SUBJECT).split())
    message = _clean(message, "message", _("Enter your message."), MAX_MESSAGE)
    elapsed = _seconds_on_form(stamp)
    if honeypot:
        # Only bots fill the field people cannot see; they get the same thanks.
        log.info("Inquiry dropped: honeypot filled")
        return None
    minimum = current_app.config.get("CONTACT_MIN_SECONDS", MIN_SECONDS)
    if elapsed < minimum:
        raise DomainError(
            _("That was sent very quickly. Please read your message over once and send it again.")
        )
    limit = current_app.config.get("CONTACT_LIMIT", "3/hour")
    network_limit = current_app.config.get("CONTACT_NETWORK_LIMIT", "10/hour")
    wait = max(
        throttle.retry_after(limit, f"inquiry:{address}"),
        throttle.retry_after(network_limit, f"inquiry-ip:{remote_addr}"),
    )
    if wait:
        minutes = max(1, round(wait / 60))
        raise RateLimited(
            ngettext(
                "We have had several messages from you already. Please wait about %(num)d "
                "minute before sending another.",
                "We have had several messages from you already. Please wait about %(num)d "
                "minutes before sending another.",
                minutes,
            ),
            wait,
        )
    inquiry = Inquiry(name=name, email=address, subject=subject, message=message)
    db.session.add(inquiry)
    db.session.flush()
    admins = list(
        db.session.scalars(select(User).where(User.role == "admin", User.deleted_at.is_(None)))
    )
    url = path_for("admin.inquiry", inquiry_id=inquiry.id)
    notifications.notify(
        [a.id for a in admins],
        "inquiry",
        _l("New inquiry from %(name)s: %(subject)s", name=name, subject=subject),
        url,
        target_type="inquiry",
        target_id=inquiry.id,
    )
    _queue_admin_mails(admins, inquiry, url)
    db.session.commit()
    throttle.hit(limit, f"inquiry:{address}")
    throttle.hit(network_limit, f"inquiry-ip:{remote_addr}")
    return inquiry


def _queue_admin_mails(admins: list[User], inquiry: Inquiry, url: str) -> None:
    link = current_app.config["BASE_URL"].rstrip("/") + url
    for admin in admins:
        with force_locale(language_of(admin)):
            text = "".join(
                (
                    _(
                        "%(name)s <%(email)s> wrote through the contact form:",
                        name=inquiry.name,
                        email=inquiry.email,
                    ),
                    "\n\n",
                    _("Subject: %(subject)s", subject=inquiry.subject),
                    f"\n\n{inquiry.message}\n\n",
                    _("Read and reply: %(link)s", link=link),
                    "\n",
                )
            )
            subject = _("Inquiry: %(subject)s", subject=inquiry.subject)
        queue_mail(admin.email, subject, text, kind="inquiry")


def list_stmt(status: str | None):
    stmt = select(Inquiry).order_by(Inquiry.created_at.desc(), Inquiry.id.desc())
    if status in INQUIRY_STATUSES:
        stmt = stmt.where(Inquiry.status == status)
    return stmt


def get(inquiry_id: int) -> Inquiry | None:
    return db.session.get(Inquiry, inquiry_id)


def reply(actor, inquiry: Inquiry, text: str) -> None:
    """Mark the inquiry answered and queue the reply to the sender, in one transaction
    (the outbox delivers it, retrying while the mail server is away).

    :raise DomainError: empty or too long.
    """
    text = _clean(text, "reply", _("Enter a reply."), MAX_REPLY)
    site = current_app.config["SITE_NAME"]
    body = (
        _("Hello %(name)s,", name=inquiry.name)
        + f"\n\n{text}\n\n-- \n{site}\n\n"
        + _("You wrote on %(date)s:", date=f"{inquiry.created_at:%Y-%m-%d}")
        + "\n"
        + "\n".join(f"> {line}" for line in inquiry.message.splitlines())
        + "\n"
    )
    queue_mail(inquiry.email, f"Re: {inquiry.subject}", body, kind="inquiry_reply")
    inquiry.reply = text
    inquiry.replied_at = _now()
    inquiry.replied_by_id = actor.id
    inquiry.status = "answered"
    audit.record(actor, "inquiry.replied", target=inquiry, details={"subject": inquiry.subject})
    db.session.commit()


def set_status(actor, inquiry: Inquiry, status: str) -> None:
    if status not in INQUIRY_STATUSES:
        raise DomainError(_("Choose new, answered or closed."), field="status")
    if inquiry.status == status:
        return
    audit.record(
        actor, "inquiry.status", target=inquiry, details={"from": inquiry.status, "to": status}
    )
    inquiry.status = status
    db.session.commit()
