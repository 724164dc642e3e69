"""Creating a course, editing it, looking it up by code, and its enrolment code."""

import re
import secrets

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit, policy
from coprod_study.account.service import resolve_time_zone, valid_time_zone
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.groups.service import check_markdown
from coprod_study.markup import render_markdown
from coprod_study.models import (
    PLACEMENTS,
    Course,
    CourseMember,
)

MAX_TITLE = 200


MAX_TERM = 80


MAX_CODE = 40


MAX_EMAILS = 200


CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")


# Paths under /courses/ that are not courses (codes are upper-cased, paths are not,
# but a look-up ignores case, so keep these free).
RESERVED_CODES = {"NEW", "ENROL", "INVITE", "CALENDAR", "CALENDAR.ICS"}


# No 0/O or 1/I: the code is read aloud and typed from a slide.
ENROL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


ENROL_LENGTH = 8


# --- Looking courses up -------------------------------------------------------------


def course_path(course: Course) -> str:
    # Codes are [A-Z0-9_-] only, so the path needs no quoting; built by hand
    # because reminders run from the command line, outside any request.
    return f"/courses/{course.code}"


def get_course(code: str, viewer=None) -> Course:
    """The course with this code; with a signed-in `viewer`, their role comes in the same query.

    :raise NotFound: when no course has this code.
    """
    code = (code or "").strip().upper()
    row = None
    if code:
        viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
        row = db.session.execute(
            select(Course, CourseMember.role)
            .outerjoin(
                CourseMember,
                (CourseMember.course_id == Course.id) & (CourseMember.user_id == viewer_id),
            )
            .where(Course.code == code)
        ).first()
    if row is None:
        raise NotFound(_("There is no such course."))
    course, role = row
    if viewer_id is not None:
        policy.remember_course_role(viewer, course, role)
    return course


def my_courses(user) -> list[tuple[Course, str]]:
    if not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.execute(
        select(Course, CourseMember.role)
        .join(CourseMember, CourseMember.course_id == Course.id)
        .where(CourseMember.user_id == user.id)
        .order_by(Course.title, Course.id)
    )
    return [(course, role) for course, role in rows]


def all_courses_stmt():
    return select(Course).order_by(Course.title, Course.id)


# --- Creating and changing courses ------------------------------------------------


def clean_code(code: str) -> str:
    code = (code or "").strip().upper()
    if not code:
        raise DomainError(_("Give the course a code, such as COPROD-101."), field="code")
    if len(code) > MAX_CODE:
        raise DomainError(_("Use at most %(max)s characters for the code.", max=MAX_CODE), field="code")
    if code in RESERVED_CODES:
        raise DomainError(
            _(
                "“%(code)s” is reserved: it is already part of the site's own addresses "
                "under /courses/. Choose another code.",
                code=code.lower(),
            ),
            field="code",
        )
    if not CODE_PATTERN.match(code):
        raise DomainError(
            _(
                "Use letters, digits, hyphens and underscores only (at least two characters); "
                "the code is part of the course's web address."
            ),
            field="code",
        )
    return code


def _clean_text(value: str, field_name: str, limit: int, required_message: str | None) -> str:
    value = " ".join((value or "").split())
    if required_message and not value:
        raise DomainError(required_message, field=field_name)
    if len(value) > limit:
        raise DomainError(_("Use at most %(limit)s characters.", limit=limit), field=field_name)
    return value


def _check_zone(time_zone: str) -> str:
    time_zone = resolve_time_zone(time_zone) or (time_zone or "").strip()
    if not valid_time_zone(time_zone):
        raise DomainError(
            _("Enter a time zone by its IANA name, such as Europe/Stockholm."), field="time_zone"
        )
    return time_zone


def _check_placement(placement: str) -> str:
    if placement not in PLACEMENTS:
        raise DomainError(_("Choose how learners are placed in groups."), field="placement")
    return placement


def new_enrol_code() -> str:
    return "".join(secrets.choice(ENROL_ALPHABET) for _ in range(ENROL_LENGTH))


def create_course(
    user,
    *,
    title: str,
    code: str,
    term: str = "",
    time_zone: str = "UTC",
    description: str = "",
    placement: str = "educator",
) -> Course:
    if not policy.can_create_course(user):
        raise Forbidden(_("Only educators and admins may create courses."))
    title = _clean_text(title, "title", MAX_TITLE, _("Give the course a title."))
    code = clean_code(code)
    term = _clean_text(term, "term", MAX_TERM, None)
    time_zone = _check_zone(time_zone)
    description = check_markdown(description, "description")
    placement = _check_placement(placement)
    if db.session.scalar(select(Course.id).where(Course.code == code)):
        raise Conflict(_("The code %(code)s is taken by another course; choose another.", code=code), "code")
    course = Course(
        code=code,
        title=title,
        term=term,
        time_zone=time_zone,
        description=description,
        description_html=str(render_markdown(description)),
        enrol_code=new_enrol_code(),
        placement=placement,
        created_by_id=user.id,
    )
    db.session.add(course)
    db.session.flush()
    db.session.add(CourseMember(course_id=course.id, user_id=user.id, role="educator"))
    audit.record(user, "course.created", target=course, details={"code": code})
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(
            _("The code %(code)s was just taken by another course; choose another.", code=code), "code"
        ) from error
    policy.forget_memberships()
    return course


def update_course(
    actor, course: Course, *, title: str, term: str, time_zone: str, description: str,
    placement: str,
) -> None:
    _require_manager(actor, course)
    values = {
        "title": _clean_text(title, "title", MAX_TITLE, _("Give the course a title.")),
        "term": _clean_text(term, "term", MAX_TERM, None),
        "time_zone": _check_zone(time_zone),
        "description": check_markdown(description, "description"),
        "placement": _check_placement(placement),
    }
    for name, value in values.items():
        setattr(course, name, value)
    course.description_html = str(render_markdown(course.description))
    db.session.commit()


def _require_manager(actor, course: Course) -> None:
    if not policy.can_manage_course(actor, course):
        raise Forbidden(_("Only the course's educators may do this."))


def reset_enrol_code(actor, course: Course) -> str:
    _require_manager(actor, course)
    course.enrol_code = new_enrol_code()
    audit.record(actor, "course.enrol_code_reset", target=course, details={"code": course.code})
    db.session.commit()
    return course.enrol_code
