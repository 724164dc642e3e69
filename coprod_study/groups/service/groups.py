"""Forming a study group, editing it and looking it up."""

import functools
import re
import secrets
import unicodedata
from datetime import UTC, datetime

from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from coprod_study import policy
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.markup import MAX_MARKDOWN_LENGTH, render_markdown
from coprod_study.models import (
    JOIN_POLICIES,
    CourseMember,
    GroupQuestion,
    Membership,
    StudyGroup,
)

MAX_NAME = 120


MAX_QUESTION = 2_000


MAX_MESSAGE = 1_000


def _now() -> datetime:
    return datetime.now(UTC)


def new_invite_code() -> str:
    return secrets.token_urlsafe(32)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "group"


def _unique_slug(name: str) -> str:
    base = slugify(name)
    taken = set(
        db.session.scalars(
            select(StudyGroup.slug).where(
                (StudyGroup.slug == base) | StudyGroup.slug.like(f"{base}-%")
            )
        )
    )
    if base not in taken and base not in RESERVED_SLUGS:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


# Paths under /groups/ that are not groups.
RESERVED_SLUGS = {"new", "join"}


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Give the group a name."), field="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("Use at most %(max)s characters for the name.", max=MAX_NAME), field="name")
    return name


def check_markdown(text: str, field: str = "body") -> str:
    text = (text or "").strip()
    if len(text) > MAX_MARKDOWN_LENGTH:
        raise DomainError(
            _(
                "This is %(length)s characters long; the limit is %(limit)s.",
                length=format_number(len(text)),
                limit=format_number(MAX_MARKDOWN_LENGTH),
            ),
            field=field,
        )
    return text


# Every group page starts with one of these two: they are built once per process, since
# building a statement and working out its cache key cost more than running it.
@functools.cache
def _group_stmt():
    return select(StudyGroup).where(StudyGroup.slug == bindparam("slug"))


@functools.cache
def _group_with_viewer_stmt():
    # The viewer's part in the group's course too: its educators facilitate it.
    viewer_id = bindparam("viewer_id")
    return (
        select(StudyGroup, Membership, CourseMember.role)
        .outerjoin(
            Membership,
            (Membership.group_id == StudyGroup.id) & (Membership.user_id == viewer_id),
        )
        .outerjoin(
            CourseMember,
            (CourseMember.course_id == StudyGroup.course_id) & (CourseMember.user_id == viewer_id),
        )
        .where(StudyGroup.slug == bindparam("slug"))
    )


def get_group(slug: str, viewer=None) -> StudyGroup:
    """The group at `slug`; with a signed-in `viewer`, their membership (and their role
    in the group's course) comes in the same query.

    :raise NotFound: when no group has this slug.
    """
    if not getattr(viewer, "is_authenticated", False):
        group = db.session.scalar(_group_stmt(), {"slug": slug})
        if group is None:
            raise NotFound(_("There is no such group."))
        return group
    row = db.session.execute(
        _group_with_viewer_stmt(), {"slug": slug, "viewer_id": viewer.id}
    ).first()
    if row is None:
        raise NotFound(_("There is no such group."))
    group, membership, course_role = row
    policy.remember_membership(viewer, group, membership)
    if group.course_id is not None:
        policy.remember_course_role(viewer, group.course_id, course_role)
    return group


def create_group(
    user,
    *,
    name: str,
    description: str = "",
    join_policy: str = "open",
    post_first: bool = True,
    allow_anonymous: bool = False,
    copy_questions_from: StudyGroup | None = None,
    course=None,
) -> StudyGroup:
    if course is not None:
        if not policy.can_manage_course(user, course):
            raise Forbidden(_("Only the course's educators may make its groups."))
    elif not policy.can_create_group(user):
        raise Forbidden(_("On this site, only facilitators and up may form groups."))
    name = _clean_name(name)
    description = check_markdown(description, "description")
    if join_policy not in JOIN_POLICIES:
        raise DomainError(_("Choose how people join."), field="join_policy")
    if copy_questions_from is not None and not policy.can_moderate(user, copy_questions_from):
        raise Forbidden(_("You can copy questions only from groups you facilitate."))
    group = StudyGroup(
        slug=_unique_slug(name),
        name=name,
        description=description,
        description_html=str(render_markdown(description)),
        join_policy=join_policy,
        post_first=post_first,
        allow_anonymous=allow_anonymous,
        invite_code=new_invite_code(),
        created_by_id=user.id,
        course_id=getattr(course, "id", None),
    )
    db.session.add(group)
    db.session.flush()
    db.session.add(
        Membership(group_id=group.id, user_id=user.id, role="facilitator", status="active")
    )
    if copy_questions_from is not None:
        for source in db.session.scalars(
            select(GroupQuestion).where(GroupQuestion.group_id == copy_questions_from.id)
        ):
            db.session.add(
                GroupQuestion(
                    group_id=group.id,
                    episode_id=source.episode_id,
                    position=source.position,
                    prompt=source.prompt,
                    created_by_id=user.id,
                )
            )
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("A group with this name was just made; try another name."), "name") from error
    policy.forget_memberships()
    return group


def update_group(
    user, group: StudyGroup, *, name, description, join_policy, post_first, allow_anonymous
) -> None:
    if not policy.can_moderate(user, group):
        raise Forbidden(_("Only the group's facilitators may change its settings."))
    group.name = _clean_name(name)
    group.description = check_markdown(description, "description")
    group.description_html = str(render_markdown(group.description))
    if join_policy not in JOIN_POLICIES:
        raise DomainError(_("Choose how people join."), field="join_policy")
    group.join_policy = join_policy
    group.post_first = post_first
    group.allow_anonymous = allow_anonymous
    db.session.commit()


def facilitated_groups(user) -> list[StudyGroup]:
    return list(
        db.session.scalars(
            select(StudyGroup)
            .join(Membership, Membership.group_id == StudyGroup.id)
            .where(
                Membership.user_id == user.id,
                Membership.status == "active",
                Membership.role == "facilitator",
            )
            .order_by(StudyGroup.name)
        )
    )


def my_groups(user) -> list[tuple[StudyGroup, Membership]]:
    if not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.execute(
        select(StudyGroup, Membership)
        .join(Membership, Membership.group_id == StudyGroup.id)
        .where(Membership.user_id == user.id, Membership.status.in_(policy.INSIDE_STATUSES))
        .order_by(StudyGroup.name)
    )
    found = [(group, member) for group, member in rows]
    for group, member in found:
        policy.remember_membership(user, group, member)
    return found


def joinable_groups_stmt(user):
    """Open and request-to-join groups the person is not in (never invite-only ones)."""
    stmt = select(StudyGroup).where(StudyGroup.join_policy.in_(["open", "request"]))
    if getattr(user, "is_authenticated", False):
        mine = select(Membership.group_id).where(Membership.user_id == user.id)
        stmt = stmt.where(StudyGroup.id.not_in(mine))
    return stmt.order_by(StudyGroup.name, StudyGroup.id)


def member_counts(group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(Membership.group_id, func.count())
        .where(Membership.group_id.in_(group_ids), Membership.status == "active")
        .group_by(Membership.group_id)
    )
    return dict(rows.all())
