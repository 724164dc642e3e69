"""Facilitator threads and their posts, following, read marks and post history."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coprod_study.models.base import Base, utcnow
from coprod_study.models.catalog import Episode
from coprod_study.models.groups import StudyGroup
from coprod_study.models.transcripts import TranscriptSegment
from coprod_study.models.users import User

FOLLOW_LEVELS = {
    "watching": _l("Watching: every new post"),
    "normal": _l("Normal: replies to me and mentions"),
    "muted": _l("Muted: nothing"),
}


class Thread(Base):
    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_group_activity", "group_id", "last_activity_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("study_groups.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    episode_id: Mapped[int | None] = mapped_column(ForeignKey("episodes.id", ondelete="SET NULL"))
    moment_seconds: Mapped[int | None]
    title: Mapped[str] = mapped_column(String(200))
    pinned: Mapped[bool] = mapped_column(default=False)
    locked: Mapped[bool] = mapped_column(default=False)
    lock_reason: Mapped[str | None] = mapped_column(Text)
    announcement: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[StudyGroup] = relationship()
    author: Mapped[User | None] = relationship()
    episode: Mapped[Episode | None] = relationship()


class Post(Base):
    """A post in a thread. The thread's opening text is its first post."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_thread_created", "thread_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    quote_post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id", ondelete="SET NULL"))
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segments.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User] = relationship()
    thread: Mapped[Thread] = relationship()
    quoted: Mapped["Post | None"] = relationship(remote_side=lambda: Post.id)
    segment: Mapped[TranscriptSegment | None] = relationship()


class ThreadFollow(Base):
    __tablename__ = "thread_follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    level: Mapped[str] = mapped_column(String(16), default="watching")


class ThreadRead(Base):
    """How far a person has read a thread: the newest post they have seen."""

    __tablename__ = "thread_reads"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    last_post_id: Mapped[int] = mapped_column(default=0)


class PostRevision(Base):
    __tablename__ = "post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime]
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
