"""Outgoing mail waiting for delivery, and reply addresses already used once."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from coprod_study.models.base import Base, utcnow

# queued: waiting (perhaps for a retry); sending: claimed by a worker, not yet handed
# to the server; handing_over: the server is taking it (the point after which a
# retry could send it twice); sent; failed: given up, or interrupted mid hand-over.
OUTBOX_STATUSES = {
    "queued": _l("Queued"),
    "sending": _l("Sending"),
    "handing_over": _l("Handing over"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}


class OutboxMessage(Base):
    """One e-mail, written in the transaction of the change that causes it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class UsedReplyAddress(Base):
    """A reply-by-e-mail address that has been answered; each works once."""

    __tablename__ = "used_reply_addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    used_at: Mapped[datetime] = mapped_column(default=utcnow)
