"""Learning that counts: checkpoints, reflections, certificates and spaced follow-ups."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coprod_study.models.base import Base, utcnow
from coprod_study.models.catalog import Episode
from coprod_study.models.courses import Assignment
from coprod_study.models.users import User

CHECKPOINT_KINDS = {
    "answers": _l("Answers"),
    "replies": _l("Replies to peers"),
}


class Checkpoint(Base):
    """An assignment's optional checkpoints: answers by one date, N replies to peers by a later one."""

    __tablename__ = "assignment_checkpoints"

    assignment_id: Mapped[int] = mapped_column(
        ForeignKey("assignments.id", ondelete="CASCADE"), primary_key=True
    )
    answers_due_at: Mapped[datetime | None]
    replies_required: Mapped[int] = mapped_column(default=0)
    replies_due_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    assignment: Mapped[Assignment] = relationship()


class CheckpointExtension(Base):
    """A later date for one learner on one checkpoint of one assignment."""

    __tablename__ = "checkpoint_extensions"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class CheckpointReminderSent(Base):
    """The 48-hour reminder of one checkpoint went to this learner (at most once)."""

    __tablename__ = "checkpoint_reminders_sent"
    __table_args__ = (UniqueConstraint("assignment_id", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class Reflection(Base):
    """A learner's private reflection on one episode; nobody else sees it, admins included."""

    __tablename__ = "reflections"
    __table_args__ = (UniqueConstraint("user_id", "episode_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    learned: Mapped[str] = mapped_column(Text, default="")
    learned_html: Mapped[str] = mapped_column(Text, default="")
    will_try: Mapped[str] = mapped_column(Text, default="")
    will_try_html: Mapped[str] = mapped_column(Text, default="")
    for_whom: Mapped[str] = mapped_column(Text, default="")
    for_whom_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    episode: Mapped[Episode] = relationship()


class Certificate(Base):
    """A certificate of participation; what it says is fixed when it is issued."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public half of the verification code; the other half is its signature.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    holder_name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    # [{"number": 1, "title": "...", "listened_on": "2026-12-01", "seconds": 1800}, ...]
    episodes: Mapped[list[dict]] = mapped_column(JSON, default=list)
    audio_seconds: Mapped[int] = mapped_column(default=0)
    first_activity_on: Mapped[datetime | None]
    last_activity_on: Mapped[datetime | None]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class FollowUpSent(Base):
    """A spaced follow-up (2, 7 or 30 days after answering an episode) went out once."""

    __tablename__ = "follow_ups_sent"
    __table_args__ = (UniqueConstraint("user_id", "episode_id", "step_days"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    step_days: Mapped[int]
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answers.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class FollowUpOptOut(Base):
    """The person does not want spaced follow-up e-mails (a row is the setting)."""

    __tablename__ = "follow_up_opt_outs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
