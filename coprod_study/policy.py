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


# --- Study groups -----------------------------------------------------------
#
# Visibility rules for group content live here and nowhere else:
# - admins and active members see the content;
# - a non-member of an invite-only group does not learn it exists (404);
# - anyone else sees the public description and a way to join, never content.


def membership(user, group):
    """The viewer's membership row in `group` (any status), cached per request."""
    from flask import g, has_app_context
    from sqlalchemy import select

    from coprod_study.extensions import db
    from coprod_study.models import Membership

    if not _signed_in(user):
        return None
    cache = g.setdefault("_memberships", {}) if has_app_context() else {}
    key = (user.id, group.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(Membership).where(
                Membership.group_id == group.id, Membership.user_id == user.id
            )
        )
    return cache[key]


def forget_memberships() -> None:
    from flask import g, has_app_context

    if has_app_context():
        g.pop("_memberships", None)


def is_member(user, group) -> bool:
    row = membership(user, group)
    return row is not None and row.status == "active"


def is_facilitator(user, group) -> bool:
    row = membership(user, group)
    return row is not None and row.is_facilitator


def can_create_group(user) -> bool:
    from flask import current_app

    return has_site_role(user, current_app.config.get("GROUP_CREATION_ROLE", "learner"))


def can_know_group(user, group) -> bool:
    """May the viewer learn that the group exists (else 404)?"""
    if group.join_policy != "invite" or has_site_role(user, "admin"):
        return True
    return membership(user, group) is not None


def can_view_group(user, group) -> bool:
    """Answers, replies, threads, member list: members and admins only."""
    return has_site_role(user, "admin") or is_member(user, group)


def can_post_in_group(user, group) -> bool:
    return is_member(user, group)


def can_moderate(user, group) -> bool:
    return has_site_role(user, "admin") or is_facilitator(user, group)


def can_join_directly(user, group) -> bool:
    return _signed_in(user) and group.join_policy == "open" and membership(user, group) is None


def can_request_to_join(user, group) -> bool:
    return _signed_in(user) and group.join_policy == "request" and membership(user, group) is None


def can_leave(user, group) -> bool:
    row = membership(user, group)
    return row is not None and row.status in {"active", "pending"}


def can_see_peer_answers(user, group, *, has_answered: bool, revealed: bool) -> bool:
    """Post before you see others: peers' answers show once you answered."""
    if can_moderate(user, group):
        return True
    if not can_view_group(user, group):
        return False
    return not group.post_first or revealed or has_answered


def can_edit_post(user, post) -> bool:
    """Authors edit and delete their own answers and replies while they are members."""
    if not _signed_in(user) or post.deleted_at is not None or post.user_id != user.id:
        return False
    group = post.group if hasattr(post, "group") else post.answer.group
    return can_post_in_group(user, group)


def can_see_history(user, group) -> bool:
    return can_moderate(user, group)


def can_see_author(user, group, post) -> bool:
    """Anonymous posts show their author to the author, facilitators and admins only."""
    if not post.anonymous:
        return True
    return (_signed_in(user) and post.user_id == user.id) or can_moderate(user, group)


def author_label(user, group, post) -> str:
    from coprod_study.models import ANONYMOUS_LABEL

    if can_see_author(user, group, post):
        name = post.author.display_name
        return f"{name} (anonymous to peers)" if post.anonymous else name
    return ANONYMOUS_LABEL


def visible_answers(stmt, viewer, group, *, has_answered: bool, revealed: bool):
    """Filter a select(Answer) to what the viewer may read in this group."""
    from coprod_study.models import Answer

    stmt = stmt.where(Answer.group_id == group.id)
    if not can_view_group(viewer, group):
        return stmt.where(False)
    if can_see_peer_answers(viewer, group, has_answered=has_answered, revealed=revealed):
        return stmt
    return stmt.where(Answer.user_id == viewer.id)
