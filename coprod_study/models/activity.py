"""Notifications, flags and e-mail digests."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coprod_study.models.base import Base, utcnow
from coprod_study.models.users import User

NOTIFICATION_KINDS = {
    "reply": _l("Reply to your post"),
    "thread_post": _l("New post in a thread you watch"),
    "new_thread": _l("New thread in your group"),
    "announcement": _l("Announcement"),
    "mention": _l("Mention"),
    "join_request": _l("Request to join"),
    "join_decided": _l("Your request to join"),
    "flag": _l("Flagged post"),
    "moderation": _l("Your post was hidden"),
    "assignment_due": _l("Assignment due"),
    "course": _l("Course"),
    "inquiry": _l("Inquiry to the team"),
}
FLAG_REASONS = {
    "off_topic": _l("Off-topic"),
    "inappropriate": _l("Inappropriate"),
    "harassment": _l("Harassment"),
    "other": _l("Other"),
}
FLAG_TARGETS = ("answer", "reply", "post")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_read", "user_id", "read_at"),
        Index("ix_notifications_user_emailed", "user_id", "emailed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    # Plain text, written without the author's name when the post is anonymous.
    message: Mapped[str] = mapped_column(Text)
    url: Mapped[str] = mapped_column(String(500))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("study_groups.id", ondelete="CASCADE"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    # What the notification is about, so it can be withdrawn if the thing is hidden.
    target_type: Mapped[str | None] = mapped_column(String(16))
    target_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class Flag(Base):
    __tablename__ = "flags"
    __table_args__ = (UniqueConstraint("reporter_id", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("study_groups.id", ondelete="CASCADE"), index=True
    )
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(16))
    target_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(20))

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class DigestRun(Base):
    """One digest per person per period; the unique key makes sending at most once."""

    __tablename__ = "digest_runs"
    __table_args__ = (UniqueConstraint("user_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    notification_count: Mapped[int] = mapped_column(default=0)
