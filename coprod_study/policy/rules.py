"""The yes/no questions: who may see or do what, asked of one person and one thing."""

from coprod_study.models import User, role_rank
from coprod_study.policy.cache import _signed_in, course_role, membership


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
    """Admins change other people's roles; nobody demotes themselves by accident.

    A deleted account has no role to change: it can never sign in again."""
    if not can_manage_users(actor) or subject.deleted_at is not None:
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


def is_member(user, group) -> bool:
    row = membership(user, group)
    return (row is not None and row.status == "active") or leads_course_of(user, group)


def is_facilitator(user, group) -> bool:
    row = membership(user, group)
    return (row is not None and row.is_facilitator) or leads_course_of(user, group)


def can_create_group(user) -> bool:
    from flask import current_app

    return has_site_role(user, current_app.config.get("GROUP_CREATION_ROLE", "learner"))


# Membership statuses that count as being inside a group. A removed or banned row
# is kept for the record (and to keep the banned out), but it is outside: so is
# someone who left or was declined, whose row is gone.
INSIDE_STATUSES = ("active", "pending")


def is_inside(row) -> bool:
    """Does this membership row (or None) count as being in the group?"""
    return row is not None and row.status in INSIDE_STATUSES


def can_know_group(user, group) -> bool:
    """May the viewer learn that the group exists, its name and description (else 404)?

    An invite-only group is known to those inside it, its course's educators and
    admins; everyone outside it gets the answer a group that does not exist gets.
    """
    if group.join_policy != "invite" or has_site_role(user, "admin"):
        return True
    return is_inside(membership(user, group)) or leads_course_of(user, group)


def is_listed_publicly(group) -> bool:
    """May the group's public page be shared, listed in the sitemap and described to
    search engines? Invite-only groups are known to their members only."""
    return group.join_policy in ("open", "request")


def can_view_group(user, group) -> bool:
    """Answers, replies, threads, member list: members and admins only."""
    return has_site_role(user, "admin") or is_member(user, group)


def can_post_in_group(user, group) -> bool:
    return is_member(user, group)


def can_moderate(user, group) -> bool:
    return has_site_role(user, "admin") or is_facilitator(user, group)


def _may_enter(user, group) -> bool:
    # Nobody in yet, or removed earlier (removal is not a ban).
    row = membership(user, group)
    return _signed_in(user) and (row is None or row.status == "removed")


def can_join_directly(user, group) -> bool:
    return group.join_policy == "open" and _may_enter(user, group)


def can_request_to_join(user, group) -> bool:
    return group.join_policy == "request" and _may_enter(user, group)


def can_leave(user, group) -> bool:
    return is_inside(membership(user, group))


def can_see_peer_answers(user, group, *, has_answered: bool, revealed: bool) -> bool:
    """Post before you see others: peers' answers show once you answered."""
    if can_moderate(user, group):
        return True
    if not can_view_group(user, group):
        return False
    return not group.post_first or revealed or has_answered


def group_of(post):
    """The group an answer, reply or thread post belongs to."""
    if hasattr(post, "thread"):
        return post.thread.group
    if hasattr(post, "answer"):
        return post.answer.group
    return post.group


def can_edit_post(user, post) -> bool:
    """Authors edit and delete their own posts while they are members and it is not hidden."""
    if not _signed_in(user) or post.deleted_at is not None or post.user_id != user.id:
        return False
    if post.hidden_at is not None:
        return False
    return can_post_in_group(user, group_of(post))


def can_read_post(user, post) -> bool:
    return can_view_group(user, group_of(post))


def can_see_hidden_text(user, group, post) -> bool:
    """A hidden post's text (and the reason) shows to its author and the facilitators."""
    return (_signed_in(user) and post.user_id == user.id) or can_moderate(user, group)


def can_flag(user, post) -> bool:
    return (
        _signed_in(user)
        and post.user_id != user.id
        and post.deleted_at is None
        and can_post_in_group(user, group_of(post))
    )


def can_see_history(user, group, post=None) -> bool:
    """A post's earlier versions: the group's facilitators, and the post's own author
    while they can read the group (their data export holds the same versions)."""
    if can_moderate(user, group):
        return True
    return (
        post is not None
        and _signed_in(user)
        and post.user_id == user.id
        and can_view_group(user, group)
    )


def can_see_author(user, group, post) -> bool:
    """Anonymous posts show their author to the author, facilitators and admins only."""
    if not post.anonymous:
        return True
    return (_signed_in(user) and post.user_id == user.id) or can_moderate(user, group)


def author_label(user, group, post) -> str:
    from flask_babel import gettext

    from coprod_study.models import ANONYMOUS_LABEL

    if can_see_author(user, group, post):
        author = post.author
        # A deleted account's stored name is the English "Former member".
        name = gettext("Former member") if author.deleted_at else author.display_name
        if post.anonymous:
            return gettext("%(name)s (anonymous to peers)", name=name)
        return name
    return str(ANONYMOUS_LABEL)


def answer_scope(viewer, group, *, has_answered: bool, revealed: bool) -> str:
    """Which of a group's answers to a question the viewer may read: "all", their
    "own", or "none"."""
    if not can_view_group(viewer, group):
        return "none"
    if can_see_peer_answers(viewer, group, has_answered=has_answered, revealed=revealed):
        return "all"
    return "own"


# --- Courses ----------------------------------------------------------------
#
# A person's part in a course (educator or learner) is a CourseMember row.
# Educators of a course facilitate every group of that course, without a
# membership row of their own; admins see every course.


def leads_course_of(user, group) -> bool:
    """Is the viewer an educator of the course this group belongs to?"""
    course_id = getattr(group, "course_id", None)
    return course_id is not None and course_role(user, course_id) == "educator"


def can_create_course(user) -> bool:
    return has_site_role(user, "educator")


def can_view_course(user, course) -> bool:
    """The course page: its educators, its learners and admins (others get 404)."""
    return has_site_role(user, "admin") or course_role(user, course) is not None


def can_manage_course(user, course) -> bool:
    return has_site_role(user, "admin") or course_role(user, course) == "educator"


def can_view_progress(user, course) -> bool:
    """Everyone's progress: the course's educators and admins; learners see only their own."""
    return can_manage_course(user, course)


def is_course_learner(user, course) -> bool:
    return course_role(user, course) == "learner"


def can_choose_group(user, course) -> bool:
    return course.placement == "choice" and is_course_learner(user, course)
