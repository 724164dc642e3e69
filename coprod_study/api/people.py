"""The caller's own things: who they are, notifications, courses, assignments, progress."""

import re

from sqlalchemy import select

from coprod_study import policy
from coprod_study.api import bp, serialize
from coprod_study.api.auth import api_user
from coprod_study.api.support import ApiError, decode_cursor, page, query_flag, query_limit
from coprod_study.courses import progress as progress_service
from coprod_study.courses import service as course_service
from coprod_study.errors import NotFound
from coprod_study.extensions import db
from coprod_study.models import Notification
from coprod_study.notifications import service as notification_service

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,39}$")
STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


@bp.route("/me")
def me():
    user = api_user()
    token = serialize_token()
    return {
        "id": user.id,
        "display_name": user.display_name,
        "role": user.role,
        "language": user.language,
        "time_zone": user.time_zone,
        "token": token,
    }


def serialize_token() -> dict:
    from flask import g

    token = g.api_token
    return {
        "name": token.name,
        "scope": token.scope,
        "prefix": token.prefix,
        "expires_at": serialize.when(token.expires_at),
    }


# --- Notifications -----------------------------------------------------------------


@bp.route("/notifications")
def notifications():
    user = api_user()
    limit = query_limit()
    after = decode_cursor(int)
    unread = query_flag("unread")
    stmt = select(Notification).where(Notification.user_id == user.id)
    if unread is not None:
        stmt = stmt.where(
            Notification.read_at.is_(None) if unread else Notification.read_at.is_not(None)
        )
    if after is not None:
        stmt = stmt.where(Notification.id < after[0])
    rows = list(db.session.scalars(stmt.order_by(Notification.id.desc()).limit(limit + 1)))
    result = page(rows, limit, lambda n: (n.id,), serialize.notification)
    result["unread_count"] = notification_service.unread_count(user)
    return result


def _own_notification(notification_id: int) -> Notification:
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != api_user().id:
        raise ApiError(404, "There is no such notification.")
    return item


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
def read_notification(notification_id: int):
    item = _own_notification(notification_id)
    notification_service.mark_read(api_user(), item.id)
    db.session.refresh(item)
    return serialize.notification(item)


@bp.route("/notifications/read-all", methods=["POST"])
def read_all_notifications():
    count = notification_service.mark_read(api_user())
    return {"marked_read": count}


# --- Courses and assignments --------------------------------------------------------


@bp.route("/courses")
def courses():
    limit = query_limit()
    after = decode_cursor(str, int)
    rows = course_service.my_courses(api_user())
    if after is not None:
        rows = [r for r in rows if (r[0].title, r[0].id) > after]
    return page(
        rows[: limit + 1],
        limit,
        lambda r: (r[0].title, r[0].id),
        lambda r: {"code": r[0].code, "title": r[0].title, "term": r[0].term, "role": r[1]},
    )


def _cell(cell) -> dict:
    assignment = cell.assignment
    return {
        "assignment_id": assignment.id,
        "course": assignment.course.code,
        "episode": {
            "slug": assignment.episode.slug,
            "number": assignment.episode.number,
            "title": assignment.episode.title,
        },
        "opens_at": serialize.when(assignment.opens_at),
        "due_at": serialize.when(cell.due_at),
        "extended": cell.extended,
        "listened": cell.listened,
        "questions_answered": cell.answered,
        "questions_required": cell.required,
        "replies_written": cell.replies,
        "complete": cell.complete,
        "completed_at": serialize.when(cell.completed_at),
        "status": cell.status,
    }


@bp.route("/assignments")
def assignments():
    limit = query_limit()
    after = decode_cursor(str, int)

    def key(cell):
        return (cell.due_at.strftime(STAMP), cell.assignment.id)

    cells = progress_service.my_cells(api_user())
    if after is not None:
        cells = [c for c in cells if key(c) > after]
    return page(cells[: limit + 1], limit, key, _cell)


@bp.route("/courses/<code>/progress")
def course_progress(code: str):
    user = api_user()
    if not CODE_RE.match(code):
        raise ApiError(404, "There is no such course.")
    try:
        course = course_service.get_course(code)
    except NotFound as error:
        raise ApiError(404, error.message) from error
    if not policy.can_view_course(user, course):
        raise ApiError(404, "There is no such course.")
    if not policy.can_view_progress(user, course):
        raise ApiError(403, "Only the course's educators see everyone's progress.")
    limit = query_limit()
    after = decode_cursor(str, int)
    group = _group_filter()
    table = progress_service.progress_table(course, group=group)
    if table.unknown_group:
        raise ApiError(400, "group must be the slug of one of the course's groups, or none.")
    rows = table.rows

    def key(row):
        return (row.user.display_name.lower(), row.user.id)

    if after is not None:
        rows = [r for r in rows if key(r) > after]

    def learner(row) -> dict:
        return {
            "learner": {"id": row.user.id, "name": row.user.display_name},
            "group": row.group.slug if row.group is not None else None,
            "assignments_done": row.done,
            "late": row.late,
            "overdue": row.overdue,
            "questions_answered": row.answered,
            "questions_required": row.required,
            "replies_written": row.replies,
            "episodes_listened": row.listened,
            "assignments": [_cell(cell) for cell in row.cells],
        }

    result = page(rows[: limit + 1], limit, key, learner)
    result["course"] = {"code": course.code, "title": course.title}
    return result


def _group_filter() -> str | None:
    from flask import request

    raw = request.args.get("group")
    if raw is None:
        return None
    if raw != "none" and (len(raw) > 80 or not re.match(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", raw)):
        raise ApiError(400, "group must be the slug of one of the course's groups, or none.")
    return raw
