"""All models, imported so that metadata and Alembic see every table."""

from coprod_study.models.base import Base, utcnow
from coprod_study.models.catalog import (
    AUDIENCES,
    TAKEAWAY_KINDS,
    Dimension,
    Episode,
    EpisodeGuest,
    ListeningProgress,
    Person,
    Reference,
    StudyQuestion,
    Takeaway,
)
from coprod_study.models.users import (
    EMAIL_PREFERENCES,
    LANGUAGES,
    ROLES,
    AuditEntry,
    User,
    role_rank,
)

__all__ = [
    "AUDIENCES",
    "EMAIL_PREFERENCES",
    "LANGUAGES",
    "ROLES",
    "TAKEAWAY_KINDS",
    "AuditEntry",
    "Base",
    "Dimension",
    "Episode",
    "EpisodeGuest",
    "ListeningProgress",
    "Person",
    "Reference",
    "StudyQuestion",
    "Takeaway",
    "User",
    "role_rank",
    "utcnow",
]
