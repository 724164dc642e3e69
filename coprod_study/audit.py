"""Writing to the audit log, inside the caller's transaction."""

from coprod_study.extensions import db
from coprod_study.models import AuditEntry


def record(
    actor,
    action: str,
    *,
    subject=None,
    target=None,
    details: dict | None = None,
    reason: str | None = None,
    group=None,
) -> AuditEntry:
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        action=action,
        subject_user_id=getattr(subject, "id", None),
        target_type=type(target).__name__ if target is not None else None,
        target_id=getattr(target, "id", None),
        group_id=getattr(group, "id", None),
        details=details or {},
        reason=reason,
    )
    db.session.add(entry)
    return entry
