"""Who may see or do what. Views and templates ask here and nowhere else."""

from coprod_study.models import User, role_rank


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def has_site_role(user, role: str) -> bool:
    return _signed_in(user) and role_rank(user.role) >= role_rank(role)


def can_manage_users(user) -> bool:
    return has_site_role(user, "admin")


def can_view_audit_log(user) -> bool:
    return has_site_role(user, "admin")


def can_edit_catalog(user) -> bool:
    return has_site_role(user, "admin")


def can_use_admin(user) -> bool:
    return has_site_role(user, "admin")


def can_change_role(actor, subject: User, new_role: str) -> bool:
    """Admins change other people's roles; nobody demotes themselves by accident."""
    if not can_manage_users(actor):
        return False
    return not (actor.id == subject.id and new_role != "admin")


def can_track_listening(user) -> bool:
    return _signed_in(user)
