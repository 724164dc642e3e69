"""Outgoing e-mail: built here and written to the outbox in the caller's transaction."""

from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid

from flask import current_app

from coprod_study.extensions import db

# Outbox rows added in the open transaction; the queue gets them once it commits
# (coprod_study.jobs), so a task never looks for a row that is not there yet.
PENDING_KEY = "outbox_pending"


def build_message(
    to: str, subject: str, text: str, html: str | None = None, headers: dict | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="coprod-study.local")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


def queue_mail(
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: dict | None = None,
    *,
    kind: str,
):
    """Write the message to the outbox inside the caller's transaction (the caller
    commits); a task delivers it after the commit. Nothing here talks to SMTP."""
    from coprod_study.models import OutboxMessage

    message = build_message(to, subject, text, html, headers)
    row = OutboxMessage(
        message_id=message["Message-ID"],
        kind=kind,
        to_address=to,
        subject=subject[:300],
        raw=message.as_bytes(policy=SMTP),
    )
    db.session.add(row)
    db.session.flush()
    db.session.info.setdefault(PENDING_KEY, []).append(row.id)
    return row
