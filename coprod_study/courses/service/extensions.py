"""Extensions: a later due date for one learner or for everyone."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study import audit
from coprod_study.courses.service.clock import format_in_zone, now_utc, to_utc
from coprod_study.courses.service.courses import _require_manager, course_path
from coprod_study.courses.service.roster import _membership
from coprod_study.errors import DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Assignment,
    Extension,
)
from coprod_study.notifications import service as notifications

# --- Extensions ------------------------------------------------------------------------


def extensions(assignment: Assignment) -> list[Extension]:
    return list(
        db.session.scalars(
            select(Extension)
            .options(selectinload(Extension.user))
            .where(Extension.assignment_id == assignment.id)
            .order_by(Extension.due_at)
        )
    )


def grant_extension(actor, assignment: Assignment, user_id: int | None, due_at) -> Extension:
    """A later due date (wall-clock time in the course's zone) for one learner."""
    course = assignment.course
    _require_manager(actor, course)
    row = _membership(course, user_id) if user_id else None
    if row is None or row.role != "learner":
        raise DomainError(_("Choose a learner of this course."), field="user_id")
    if due_at is None:
        raise DomainError(_("Enter the new due date and time."), field="due_at")
    due = to_utc(due_at, course.time_zone, "due_at")
    if due <= assignment.due_at:
        raise DomainError(
            # In the educator's own zone, like every other time on the page.
            _("An extension must be later than the assignment's due date, %(due)s.", due=format_in_zone(assignment.due_at, getattr(actor, "time_zone", None))),
            field="due_at",
        )
    extension = db.session.scalar(
        select(Extension).where(
            Extension.assignment_id == assignment.id, Extension.user_id == user_id
        )
    )
    if extension is None:
        extension = Extension(assignment_id=assignment.id, user_id=user_id, due_at=due)
        db.session.add(extension)
    extension.due_at = due
    extension.granted_by_id = actor.id
    extension.created_at = now_utc()
    audit.record(
        actor,
        "course.extension_granted",
        subject=row.user,
        target=assignment,
        details={"code": course.code, "due_at": due.isoformat()},
    )
    notifications.notify(
        [user_id],
        "course",
        _l(
            "You have an extension for episode %(number)s in %(course)s.",
            number=assignment.episode.number,
            course=course.title,
        ),
        course_path(course),
    )
    db.session.commit()
    return extension


def remove_extension(actor, assignment: Assignment, user_id: int) -> None:
    _require_manager(actor, assignment.course)
    extension = db.session.scalar(
        select(Extension).where(
            Extension.assignment_id == assignment.id, Extension.user_id == user_id
        )
    )
    if extension is None:
        raise NotFound(_("This learner has no extension for this assignment."))
    db.session.delete(extension)
    audit.record(
        actor,
        "course.extension_removed",
        subject=extension.user,
        target=assignment,
        details={"code": assignment.course.code},
    )
    db.session.commit()
