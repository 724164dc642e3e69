"""People, their site roles and the audit log."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coprod_study.models.base import Base, TimestampMixin, utcnow

# Site roles, lowest first: each includes the powers of those before it.
ROLES = ("learner", "facilitator", "educator", "admin")
# Site, group and course roles as people read them.
ROLE_LABELS = {
    "learner": _l("Learner"),
    "facilitator": _l("Facilitator"),
    "educator": _l("Educator"),
    "admin": _l("Admin"),
    "member": _l("Member"),
}
# Audit log actions as an admin reads them; the stored code stays the filter's value.
AUDIT_ACTIONS = {
    "answer.hidden": _l("Hid an answer"),
    "answer.restored": _l("Restored an answer"),
    "answer.auto_hidden": _l("Answer hidden automatically after flags"),
    "reply.hidden": _l("Hid a reply"),
    "reply.restored": _l("Restored a reply"),
    "reply.auto_hidden": _l("Reply hidden automatically after flags"),
    "post.hidden": _l("Hid a thread post"),
    "post.restored": _l("Restored a thread post"),
    "post.auto_hidden": _l("Thread post hidden automatically after flags"),
    "flags.dismissed": _l("Dismissed flags"),
    "thread.pinned": _l("Pinned a thread"),
    "thread.unpinned": _l("Unpinned a thread"),
    "thread.locked": _l("Locked a thread"),
    "thread.unlocked": _l("Unlocked a thread"),
    "thread.announced": _l("Made a thread an announcement"),
    "group.member_removed": _l("Removed a member from a group"),
    "group.member_banned": _l("Banned a member from a group"),
    "group.request_approved": _l("Approved a request to join"),
    "group.request_declined": _l("Declined a request to join"),
    "group.role_changed": _l("Changed a group role"),
    "group.invite_reset": _l("Reset a group's invite link"),
    "course.created": _l("Created a course"),
    "course.educator_added": _l("Added a co-educator"),
    "course.enrol_code_reset": _l("Made a new enrol code"),
    "course.extension_granted": _l("Gave an extension"),
    "course.extension_removed": _l("Removed an extension"),
    "course.checkpoints_set": _l("Set an assignment's checkpoints"),
    "course.checkpoint_extension_granted": _l("Gave a checkpoint extension"),
    "course.checkpoint_extension_removed": _l("Removed a checkpoint extension"),
    "course.learner_placed": _l("Placed a learner in a group"),
    "course.learner_removed": _l("Removed a learner from a course"),
    "course.learners_added": _l("Added learners to a course"),
    "course.left": _l("Left a course"),
    "catalog.episode_created": _l("Created an episode"),
    "catalog.episode_updated": _l("Edited an episode"),
    "catalog.episode_deleted": _l("Deleted an episode"),
    "catalog.feed_imported": _l("Imported the podcast feed"),
    "catalog.transcript_stored": _l("Stored a transcript"),
    "catalog.transcript_deleted": _l("Deleted a transcript"),
    "inquiry.replied": _l("Replied to an inquiry"),
    "inquiry.status": _l("Changed an inquiry's status"),
    "user.role_changed": _l("Changed a site role"),
    "user.deleted_account": _l("Deleted their account"),
    "lti.platform_saved": _l("Saved an LMS registration"),
    "lti.platform_deleted": _l("Deleted an LMS registration"),
    "lti.key_rotated": _l("Made a new LTI signing key"),
    "lti.member_added": _l("Added a course member from the LMS"),
    "lti.role_changed": _l("Changed a course role from the LMS"),
    "lti.member_removed": _l("Removed a course member missing from the LMS"),
    "lti.roster_synced": _l("Synced a course roster from the LMS"),
}
LANGUAGES = {"en": "English", "sv": "Svenska"}
EMAIL_PREFERENCES = {
    "immediately": _l("Immediately"),
    "daily": _l("Daily digest"),
    "weekly": _l("Weekly digest"),
    "off": _l("Off"),
}


def role_rank(role: str) -> int:
    return ROLES.index(role)


class User(UserMixin, TimestampMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored normalized (see account.service.normalize_email), so unique is
    # case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="learner")
    language: Mapped[str] = mapped_column(String(8), default="en")
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    email_preference: Mapped[str] = mapped_column(String(16), default="daily")
    # Bumped at logout and password change: every cookie carrying an older
    # value stops working, which a signed client-side session cannot do alone.
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]
    # Set when the person deleted their account: the row stays, nameless, so
    # their answers and posts keep an author ("Former member").
    deleted_at: Mapped[datetime | None]

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, role: str) -> bool:
        return role_rank(self.role) >= role_rank(role)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class AuditEntry(Base):
    """Who did what to whom, when and why. Written in the same transaction as the act."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None]
    # The study group an action happened in, so facilitators can read their part.
    group_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str | None] = mapped_column(Text)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_user_id])
