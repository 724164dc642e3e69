"""Delivering the outbox: claim, hand over (SMTP or .eml file), retry with backoff, once only."""

import os
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.mail.outgoing import PENDING_KEY
from coprod_study.models import OUTBOX_STATUSES, OutboxMessage

INTERRUPTED = (
    "The worker stopped while the mail server was taking this message, so it may have "
    "arrived. It is not sent again on its own: check with the recipient, then retry."
)


@dataclass
class Outcome:
    """What one delivery attempt did; `retry_in` seconds when it should be tried again."""

    status: str
    retry_in: float | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _config(name: str, default):
    return current_app.config.get(name, default)


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: doubling from OUTBOX_RETRY_SECONDS, at most an hour."""
    base = float(_config("OUTBOX_RETRY_SECONDS", 30))
    return min(base * 2 ** max(attempts - 1, 0), 3600.0)


def eml_path(message) -> Path:
    """The file a message goes to without SMTP; named by the row, so a second try sees it."""
    stamp = message.created_at.strftime("%Y%m%dT%H%M%S")
    return Path(current_app.config["OUTBOX_DIR"]) / f"{stamp}-{message.id:08d}.eml"


def _set(message_id: int, expected: tuple[str, ...], **values) -> bool:
    """Move a row on only from one of the `expected` states (a compare-and-set)."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_(expected))
        .values(**values)
    )
    db.session.commit()
    return result.rowcount == 1


def _claim(message_id: int, now: datetime) -> bool:
    lease = timedelta(seconds=float(_config("OUTBOX_LEASE_SECONDS", 120)))
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status == "queued",
            OutboxMessage.next_attempt_at <= now,
        )
        .values(
            status="sending", lease_until=now + lease, attempts=OutboxMessage.attempts + 1
        )
    )
    db.session.commit()
    return result.rowcount == 1


@dataclass(frozen=True)
class Envelope:
    """What the transports need of a row, read before the conversation starts."""

    id: int
    to_address: str
    raw: bytes
    created_at: datetime


class _Refused(Exception):
    """The server answered with an error: the message did not go, trying again is safe."""


def _send_smtp(message: Envelope, handing_over) -> None:
    config = current_app.config
    sender = parseaddr(config["MAIL_FROM"])[1]
    timeout = float(config.get("SMTP_TIMEOUT", 30))
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=timeout) as smtp:
        smtp.ehlo_or_helo_if_needed()
        if config.get("SMTP_STARTTLS"):
            smtp.starttls()
            smtp.ehlo()
        if config.get("SMTP_USERNAME"):
            smtp.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        code, reply = smtp.mail(sender)
        if code != 250:
            raise _Refused(f"MAIL FROM refused: {code} {reply.decode(errors='replace')}")
        code, reply = smtp.rcpt(message.to_address)
        if code not in (250, 251):
            raise _Refused(f"RCPT TO refused: {code} {reply.decode(errors='replace')}")
        # From here the server may keep the message even if we never hear back.
        handing_over()
        try:
            smtp.data(message.raw)
        except smtplib.SMTPResponseException as error:
            raise _Refused(f"DATA refused: {error.smtp_code} {error.smtp_error!r}") from error


def _write_file(message: Envelope, handing_over) -> None:
    path = eml_path(message)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return  # an earlier attempt wrote it
    handing_over()
    partial = path.with_suffix(".part")
    partial.write_bytes(message.raw)
    os.replace(partial, path)


def deliver(message_id: int) -> Outcome:
    """Deliver one queued message once. The row says `sending` before the SMTP
    conversation and `handing_over` before the message itself goes, each committed, so
    a worker that dies can be told apart from one that is only slow (the lease)."""
    now = _now()
    if not _claim(message_id, now):
        return Outcome("skipped")
    row = db.session.get(OutboxMessage, message_id)
    message = Envelope(row.id, row.to_address, row.raw, row.created_at)
    # End the read before talking to the server: outside a request a SQLite transaction
    # holds the write lock, which a slow server would keep from every other writer.
    db.session.rollback()
    handed = []

    def handing_over():
        _set(message_id, ("sending",), status="handing_over")
        handed.append(True)

    transport = _send_smtp if current_app.config.get("SMTP_HOST") else _write_file
    try:
        transport(message, handing_over)
    except (_Refused, smtplib.SMTPException, OSError) as error:
        db.session.rollback()
        if handed and not isinstance(error, _Refused):
            # Cut off while the server was taking it: it may have arrived.
            _set(message_id, ("handing_over",), status="failed", last_error=INTERRUPTED,
                 lease_until=None)
            return Outcome("failed")
        return _retry_later(message_id, f"{type(error).__name__}: {error}")
    _set(
        message_id,
        ("sending", "handing_over"),
        status="sent",
        sent_at=_now(),
        lease_until=None,
        last_error=None,
    )
    return Outcome("sent")


def _retry_later(message_id: int, error: str) -> Outcome:
    message = db.session.get(OutboxMessage, message_id)
    limit = int(_config("OUTBOX_MAX_ATTEMPTS", 8))
    if message.attempts >= limit:
        _set(message_id, ("sending", "handing_over"), status="failed", last_error=error[:2000],
             lease_until=None)
        current_app.logger.warning("Gave up on mail %s after %s attempts", message_id, limit)
        return Outcome("failed")
    delay = backoff(message.attempts)
    _set(
        message_id,
        ("sending", "handing_over"),
        status="queued",
        last_error=error[:2000],
        lease_until=None,
        next_attempt_at=_now() + timedelta(seconds=delay),
    )
    return Outcome("queued", retry_in=delay)


def recover_stale(now: datetime | None = None) -> int:
    """Rows whose worker stopped before its lease ran out: back to the queue if it had
    not begun handing the message over, else failed (or sent, when the file is there)."""
    now = now or _now()
    stale = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.status.in_(("sending", "handing_over")),
            OutboxMessage.lease_until < now,
        )
    ).all()
    for message in stale:
        if message.status == "sending":
            message.status, message.next_attempt_at = "queued", now
        elif not current_app.config.get("SMTP_HOST") and eml_path(message).exists():
            message.status, message.sent_at = "sent", now
        else:
            message.status, message.last_error = "failed", INTERRUPTED
        message.lease_until = None
    db.session.commit()
    return len(stale)


def due_ids(now: datetime | None = None, limit: int = 500) -> list[int]:
    now = now or _now()
    ids = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == "queued", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.rollback()
    return list(ids)


DUE_BATCH = 500


def deliver_due() -> int:
    """Deliver every message that is due, here and now (`coprod-study send-mail`, tests),
    a batch at a time until none is left."""
    recover_stale()
    sent = 0
    previous: list[int] = []
    while True:
        batch = due_ids(limit=DUE_BATCH)
        if not batch or batch == previous:  # nothing due, or nothing could be claimed
            return sent
        sent += sum(deliver(message_id).status == "sent" for message_id in batch)
        if len(batch) < DUE_BATCH:
            return sent
        previous = batch


def list_stmt(status: str | None):
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status in OUTBOX_STATUSES:
        stmt = stmt.where(OutboxMessage.status == status)
    return stmt


def counts() -> dict[str, int]:
    from sqlalchemy import func

    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    ).all()
    return {status: 0 for status in OUTBOX_STATUSES} | dict(rows)


def retry_now(message: OutboxMessage) -> None:
    """Queue a failed (or waiting) message for an attempt at once.

    :raise DomainError: it was sent, or a worker is delivering it now.
    """
    if message.status == "sent":
        raise DomainError(_("This message was sent already."))
    if message.status in ("sending", "handing_over"):
        raise DomainError(_("A worker is delivering this message right now."))
    if message.status == "failed":
        message.attempts = 0
    message.status = "queued"
    message.next_attempt_at = _now()
    message.lease_until = None
    db.session.info.setdefault(PENDING_KEY, []).append(message.id)
    db.session.commit()
