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
    # Stored normalized (see services.accounts.normalize_email), so unique is
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
