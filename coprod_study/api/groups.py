"""Groups and their members for the token's owner, and how every group endpoint finds its group.

Every lookup asks the same policy functions as the HTML pages: a group the
caller may not know of is 404, content of a group the caller may not read is
403, and answers go through policy.visible_answers. A service's NotFound (no
such episode, question, answer, thread...) becomes a 404 problem with its
message in api.auth.domain_error.
"""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study import policy
from coprod_study.api import bp, serialize
from coprod_study.api import outputs as out
from coprod_study.api.auth import api_user
from coprod_study.api.inputs import ListQuery, check_slug, read_query
from coprod_study.api.spec import operation
from coprod_study.api.support import ApiError, decode_cursor, page
from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.models import Membership, StudyGroup


def load_group(slug: str, *, content: bool = True) -> StudyGroup:
    """The group at `slug`, as the pages decide.

    :raise ApiError: 404 no such group or one the caller may not know of; 403 the
        caller may know it but not read its content.
    """
    check_slug(slug, "group")
    group = db.session.scalar(select(StudyGroup).where(StudyGroup.slug == slug))
    user = api_user()
    if group is None or not policy.can_know_group(user, group):
        raise ApiError(404, "There is no such group.")
    if content and not policy.can_view_group(user, group):
        raise ApiError(403, "Only the group's members see its content; join it first.")
    return group


def created(body: dict, location: str):
    """A 201 answer with the new thing's URL."""
    return body, 201, {"Location": location}


# --- Groups ------------------------------------------------------------------------


def _group_json(group, membership, member_count: int | None = None) -> dict:
    user = api_user()
    data = {
        "slug": group.slug,
        "name": group.name,
        "description": group.description,
        "description_html": group.description_html,
        "join_policy": group.join_policy,
        "post_first": group.post_first,
        "allow_anonymous": group.allow_anonymous,
        "course": None,
        "membership": serialize.membership(membership),
        "can_view_content": policy.can_view_group(user, group),
        "can_moderate": policy.can_moderate(user, group),
    }
    if group.course_id is not None:
        from coprod_study.models import Course

        data["course"] = db.session.get(Course, group.course_id).code
    if member_count is not None:
        data["member_count"] = member_count
    return data


@bp.route("/groups")
@operation(
    "The caller's groups", "groups", query=ListQuery, ok=out.GroupPage,
    answers="Groups the caller is in or asked to join.",
)
def my_groups():
    user = api_user()
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
    stmt = (
        select(StudyGroup, Membership)
        .join(Membership, Membership.group_id == StudyGroup.id)
        .where(Membership.user_id == user.id, Membership.status.in_(policy.INSIDE_STATUSES))
        .order_by(StudyGroup.id)
    )
    if after is not None:
        stmt = stmt.where(StudyGroup.id > after[0])
    rows = db.session.execute(stmt.limit(limit + 1)).all()
    return page(rows, limit, lambda r: (r[0].id,), lambda r: _group_json(r[0], r[1]))


@bp.route("/groups/<slug>")
@operation(
    "A group's public description", "groups", ok=out.Group,
    answers="The group, as far as the caller may know it.",
)
def group(slug: str):
    item = load_group(slug, content=False)
    count = group_service.member_counts([item.id]).get(item.id, 0)
    return _group_json(item, policy.membership(api_user(), item), count)


@bp.route("/groups/<slug>/members")
@operation(
    "A group's members", "groups", query=ListQuery, ok=out.MemberPage, errors=[403],
    answers="Active members (members and admins only).",
)
def group_members(slug: str):
    item = load_group(slug)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
    stmt = (
        select(Membership)
        .options(selectinload(Membership.user))
        .where(Membership.group_id == item.id, Membership.status == "active")
        .order_by(Membership.id)
    )
    if after is not None:
        stmt = stmt.where(Membership.id > after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return page(
        rows,
        limit,
        lambda m: (m.id,),
        lambda m: {
            "id": m.user.id,
            "name": m.user.display_name,
            "role": m.role,
            "joined_at": serialize.when(m.created_at),
        },
    )
