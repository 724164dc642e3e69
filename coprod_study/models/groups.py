"""Study groups, their members, extra questions, answers and replies."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coprod_study.models.base import Base, utcnow
from coprod_study.models.catalog import Episode, StudyQuestion
from coprod_study.models.transcripts import TranscriptSegment
from coprod_study.models.users import User

JOIN_POLICIES = {
    "open": _l("Open: anyone can join"),
    "request": _l("Request to join: a facilitator approves"),
    "invite": _l("Invite only: people join with the invite link"),
}
GROUP_ROLES = ("member", "facilitator")
# A membership row's life: pending (asked to join) -> active -> removed or banned.
# Leaving deletes the row, so a person who left can come back; a removed
# person may come back through the normal ways in, a banned one never.
MEMBERSHIP_STATUSES = ("pending", "active", "removed", "banned")
ANONYMOUS_LABEL = _l("Anonymous learner")


class StudyGroup(Base):
    __tablename__ = "study_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    join_policy: Mapped[str] = mapped_column(String(16), default="open")
    post_first: Mapped[bool] = mapped_column(default=True)
    allow_anonymous: Mapped[bool] = mapped_column(default=False)
    invite_code: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A course's group shows the course's episodes; its educators facilitate it.
    course_id: Mapped[int | None] = mapped_column(
        ForeignKey("courses.id", ondelete="SET NULL"), index=True
    )

    created_by: Mapped[User | None] = relationship()


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        Index("ix_memberships_user_status", "user_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("study_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="member")
    status: Mapped[str] = mapped_column(String(16), default="active")
    request_message: Mapped[str | None] = mapped_column(Text)
    decision_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    group: Mapped[StudyGroup] = relationship()
    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def is_facilitator(self) -> bool:
        return self.status == "active" and self.role == "facilitator"


class GroupQuestion(Base):
    """A facilitator's own question on an episode, for one group (its question bank)."""

    __tablename__ = "group_questions"
    __table_args__ = (Index("ix_group_questions_group_episode", "group_id", "episode_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("study_groups.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    position: Mapped[int]
    prompt: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    episode: Mapped[Episode] = relationship()


class QuestionReveal(Base):
    """A facilitator opened a question's answers to everyone in the group."""

    __tablename__ = "question_reveals"
    __table_args__ = (
        UniqueConstraint("group_id", "study_question_id"),
        UniqueConstraint("group_id", "group_question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("study_groups.id", ondelete="CASCADE"))
    study_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("study_questions.id", ondelete="CASCADE")
    )
    group_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_questions.id", ondelete="CASCADE")
    )
    revealed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        # One answer per person per question per group (NULLs never collide,
        # so each constraint covers its own kind of question).
        UniqueConstraint("group_id", "user_id", "study_question_id"),
        UniqueConstraint("group_id", "user_id", "group_question_id"),
        CheckConstraint(
            "(study_question_id IS NULL) <> (group_question_id IS NULL)", name="one_question"
        ),
        # Covers a group's answer counts per question and the reader's own (the group
        # and episode pages read it without touching the rows).
        Index(
            "ix_answers_group_summary",
            "group_id", "study_question_id", "group_question_id", "user_id", "deleted_at",
        ),
        Index("ix_answers_group_group_question", "group_id", "group_question_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("study_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    study_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("study_questions.id", ondelete="CASCADE")
    )
    group_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_questions.id", ondelete="CASCADE")
    )
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(default=False)
    endorsed_at: Mapped[datetime | None]
    endorsed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    # A transcript moment the answer quotes ("discussing a moment").
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("transcript_segments.id", ondelete="SET NULL")
    )
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(Text)
    # The question's wording when this answer was written, kept once the
    # wording changes (coprod_study.wording); None means the current wording.
    question_text: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User] = relationship(foreign_keys=[user_id])
    group: Mapped[StudyGroup] = relationship()
    segment: Mapped["TranscriptSegment | None"] = relationship()
    study_question: Mapped[StudyQuestion | None] = relationship()
    group_question: Mapped[GroupQuestion | None] = relationship()
    replies: Mapped[list["Reply"]] = relationship(
        order_by=lambda: (Reply.created_at, Reply.id), back_populates="answer"
    )
    revisions: Mapped[list["Revision"]] = relationship(
        primaryjoin=lambda: Answer.id == Revision.answer_id,
        order_by=lambda: Revision.id,
        viewonly=True,
    )


class Reply(Base):
    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    hidden_at: Mapped[datetime | None]
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author: Mapped[User] = relationship()
    answer: Mapped[Answer] = relationship(back_populates="replies")


class Revision(Base):
    """An earlier text of an answer or reply, kept at every edit."""

    __tablename__ = "revisions"
    __table_args__ = (
        CheckConstraint("(answer_id IS NULL) <> (reply_id IS NULL)", name="one_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int | None] = mapped_column(
        ForeignKey("answers.id", ondelete="CASCADE"), index=True
    )
    reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("replies.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime]
    replaced_at: Mapped[datetime] = mapped_column(default=utcnow)
