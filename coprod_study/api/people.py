"""The caller's own things: who they are, notifications, courses, assignments, progress."""

from flask import g
from sqlalchemy import select

from coprod_study import policy
from coprod_study.api import bp, serialize
from coprod_study.api import outputs as out
from coprod_study.api.auth import api_user
from coprod_study.api.inputs import (
    ListQuery,
    NotificationQuery,
    ProgressQuery,
    check_code,
    read_query,
)
from coprod_study.api.spec import operation
from coprod_study.api.support import ApiError, decode_cursor, page
from coprod_study.courses import progress as progress_service
from coprod_study.courses import service as course_service
from coprod_study.extensions import db
from coprod_study.models import Notification
from coprod_study.notifications import service as notification_service

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


@bp.route("/me")
@operation("Who the token belongs to", "me", ok=out.Me, answers="The caller.")
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
    token = g.api_token
    return {
        "name": token.name,
        "scope": token.scope,
        "prefix": token.prefix,
        "expires_at": serialize.when(token.expires_at),
    }


# --- Notifications -----------------------------------------------------------------


@bp.route("/notifications")
@operation(
    "The caller's notifications", "me", query=NotificationQuery, ok=out.NotificationPage,
    answers="Newest first.",
)
def notifications():
    user = api_user()
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
    stmt = select(Notification).where(Notification.user_id == user.id)
    if params.unread is not None:
        stmt = stmt.where(
            Notification.read_at.is_(None)
            if params.unread == "true"
            else Notification.read_at.is_not(None)
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
@operation(
    "Mark a notification read", "me", ok=out.Notification, errors=[403],
    answers="The notification, now read.",
)
def read_notification(notification_id: int):
    item = _own_notification(notification_id)
    notification_service.mark_read(api_user(), item.id)
    db.session.refresh(item)
    return serialize.notification(item)


@bp.route("/notifications/read-all", methods=["POST"])
@operation(
    "Mark every notification read", "me", ok=out.ReadAll, errors=[403],
    answers="How many were marked.",
)
def read_all_notifications():
    count = notification_service.mark_read(api_user())
    return {"marked_read": count}


# --- Courses and assignments --------------------------------------------------------


@bp.route("/courses")
@operation(
    "The caller's courses", "courses", query=ListQuery, ok=out.CoursePage,
    answers="Courses the caller teaches or takes.",
)
def courses():
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, str, int)
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
@operation(
    "The caller's assignments and where they stand", "courses", query=ListQuery,
    ok=out.AssignmentPage, answers="Soonest due first.",
)
def assignments():
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, str, int)

    def key(cell):
        return (cell.due_at.strftime(STAMP), cell.assignment.id)

    cells = progress_service.my_cells(api_user())
    if after is not None:
        cells = [c for c in cells if key(c) > after]
    return page(cells[: limit + 1], limit, key, _cell)


def _learner(row) -> dict:
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


def _learner_key(row) -> tuple[str, int]:
    return (row.user.display_name.lower(), row.user.id)


def _course_for_progress(code: str):
    """The course at `code` when the caller may see everyone's progress in it."""
    user = api_user()
    check_code(code)
    course = course_service.get_course(code)
    if not policy.can_view_course(user, course):
        raise ApiError(404, "There is no such course.")
    if not policy.can_view_progress(user, course):
        raise ApiError(403, "Only the course's educators see everyone's progress.")
    return course


@bp.route("/courses/<code>/progress")
@operation(
    "Every learner's progress in a course (educators)", "courses", query=ProgressQuery,
    ok=out.ProgressPage, errors=[403], answers="Learners by name.",
)
def course_progress(code: str):
    course = _course_for_progress(code)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, str, int)
    table = progress_service.progress_table(course, group=params.group)
    if table.unknown_group:
        raise ApiError(400, ProgressQuery.problems["group"])
    rows = table.rows
    if after is not None:
        rows = [r for r in rows if _learner_key(r) > after]
    result = page(rows[: limit + 1], limit, _learner_key, _learner)
    result["course"] = {"code": course.code, "title": course.title}
    return result
