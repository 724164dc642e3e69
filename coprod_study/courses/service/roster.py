"""Who is in a course, in which role, and in which of its groups."""

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from coprod_study.errors import NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Course,
    CourseMember,
    Membership,
    StudyGroup,
    User,
)


def members(course: Course, role: str) -> list[CourseMember]:
    return members_by_role(course).get(role, [])


def members_by_role(course: Course) -> dict[str, list[CourseMember]]:
    """The course's learners and educators with their accounts, by role, in one query."""
    by_role: dict[str, list[CourseMember]] = {}
    rows = db.session.scalars(
        select(CourseMember)
        .join(CourseMember.user)
        .options(contains_eager(CourseMember.user))
        .where(CourseMember.course_id == course.id)
        .order_by(func.lower(User.display_name), User.id)
    )
    for member in rows:
        by_role.setdefault(member.role, []).append(member)
    return by_role


def group_educators(group) -> list[User]:
    """The educators of a course's group's course (they facilitate it without being
    members); none for a group outside a course."""
    if group.course_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(CourseMember, CourseMember.user_id == User.id)
            .where(CourseMember.course_id == group.course_id, CourseMember.role == "educator")
            .order_by(func.lower(User.display_name), User.id)
        )
    )


def learner_ids_stmt(course_id):
    """The learners of a course (or of several, given a select of course ids)."""
    if isinstance(course_id, int):
        where = CourseMember.course_id == course_id
    else:
        where = CourseMember.course_id.in_(course_id)
    return select(CourseMember.user_id).where(where, CourseMember.role == "learner")


def course_groups(course: Course) -> list[StudyGroup]:
    return list(
        db.session.scalars(
            select(StudyGroup).where(StudyGroup.course_id == course.id).order_by(StudyGroup.name)
        )
    )


def placements(course: Course) -> list[tuple[int, StudyGroup]]:
    """(person id, group) for every active membership of the course's groups, one query."""
    return [
        (user_id, group)
        for user_id, group in db.session.execute(
            select(Membership.user_id, StudyGroup)
            .join(StudyGroup, StudyGroup.id == Membership.group_id)
            .where(StudyGroup.course_id == course.id, Membership.status == "active")
            .order_by(StudyGroup.name, StudyGroup.id)
        )
    ]


def learner_groups(course: Course, rows=None) -> dict[int, StudyGroup]:
    """Each placed learner's group in this course (from `placements`)."""
    placed: dict[int, StudyGroup] = {}
    for user_id, group in placements(course) if rows is None else rows:
        placed.setdefault(user_id, group)
    return placed


def group_counts(rows, learners) -> dict[int, int]:
    """Learners per group, from `placements` rows and the course's learner members."""
    learner_ids = {member.user_id for member in learners}
    counts: dict[int, int] = {}
    for user_id, group in rows:
        if user_id in learner_ids:
            counts[group.id] = counts.get(group.id, 0) + 1
    return counts


def _membership(course: Course, user_id: int) -> CourseMember | None:
    return db.session.scalar(
        select(CourseMember).where(
            CourseMember.course_id == course.id, CourseMember.user_id == user_id
        )
    )


def _learner_row(course: Course, user_id: int) -> CourseMember:
    """:raise NotFound: the person is not a learner of the course."""
    row = _membership(course, user_id)
    if row is None or row.role != "learner":
        raise NotFound(_("This person is not a learner of the course."))
    return row
