"""A course's study groups: creating them, placing learners, a learner leaving."""

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select

from coprod_study import audit, policy
from coprod_study.courses.service.courses import _check_placement, _require_manager
from coprod_study.courses.service.roster import _learner_row
from coprod_study.errors import DomainError, Forbidden
from coprod_study.extensions import db
from coprod_study.groups.service import create_group as _create_group
from coprod_study.models import (
    Assignment,
    Course,
    Extension,
    Membership,
    StudyGroup,
    User,
)
from coprod_study.notifications import service as notifications

# --- Course groups and placement ------------------------------------------------


def create_course_group(actor, course: Course, *, name: str, post_first: bool = True):
    _require_manager(actor, course)
    # Invite only: a course group is found through its course, not the group list.
    return _create_group(
        actor,
        name=name,
        # Stored text, in the language of the educator who makes the group.
        description=_("A study group of the course %(course)s.", course=course.title),
        join_policy="invite",
        post_first=post_first,
        course=course,
    )


def set_placement(actor, course: Course, placement: str) -> None:
    _require_manager(actor, course)
    course.placement = _check_placement(placement)
    db.session.commit()


def _course_group(course: Course, group_id: int) -> StudyGroup:
    group = db.session.get(StudyGroup, group_id) if group_id else None
    if group is None or group.course_id != course.id:
        raise DomainError(_("Choose one of this course's groups."), field="group_id")
    return group


def _move(course: Course, user_id: int, group: StudyGroup | None) -> None:
    """Take the learner out of the course's other groups and into `group` (or none)."""
    others = select(StudyGroup.id).where(StudyGroup.course_id == course.id)
    if group is not None:
        others = others.where(StudyGroup.id != group.id)
    db.session.execute(
        delete(Membership).where(
            Membership.user_id == user_id,
            Membership.group_id.in_(others),
            Membership.status.in_(["active", "pending"]),
        )
    )
    if group is None:
        return
    row = db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user_id)
    )
    if row is None:
        db.session.add(
            Membership(group_id=group.id, user_id=user_id, role="member", status="active")
        )
    elif row.status != "active":
        row.status, row.role = "active", "member"


def place_learner(actor, course: Course, user_id: int, group_id: int | None) -> StudyGroup | None:
    """An educator puts a learner in a group, moves them, or (group 0) takes them out."""
    _require_manager(actor, course)
    row = _learner_row(course, user_id)
    group = _course_group(course, group_id) if group_id else None
    _move(course, user_id, group)
    audit.record(
        actor,
        "course.learner_placed",
        subject=row.user,
        target=course,
        details={"code": course.code, "group": group.slug if group else None},
    )
    if group is not None:
        notifications.notify(
            [user_id],
            "course",
            _l(
                "You are in the group %(group)s for %(course)s.",
                group=group.name,
                course=course.title,
            ),
            f"/groups/{group.slug}",
            group=group,
        )
    db.session.commit()
    policy.forget_memberships()
    return group


@dataclass
class Departure:
    """What taking a learner off a course changes, shown before it is done."""

    learner: User
    groups: list[StudyGroup]
    extensions: int


def departure(course: Course, user_id: int) -> Departure:
    """:raise NotFound: the person is not a learner of the course."""
    row = _learner_row(course, user_id)
    groups = list(
        db.session.scalars(
            select(StudyGroup)
            .join(Membership, Membership.group_id == StudyGroup.id)
            .where(
                StudyGroup.course_id == course.id,
                Membership.user_id == user_id,
                Membership.status.in_(["active", "pending"]),
            )
            .order_by(StudyGroup.name)
        )
    )
    extensions = db.session.scalar(
        select(func.count())
        .select_from(Extension)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .where(Assignment.course_id == course.id, Extension.user_id == user_id)
    )
    return Departure(row.user, groups, extensions)


def remove_learner(actor, course: Course, user_id: int) -> User:
    """A learner leaves the course, or one of its educators takes them off it.

    They leave the course's groups (their answers stay, as when someone leaves a
    group), lose its unread notifications and their extensions, and drop out of the
    progress table. Enrolling again with the code, or being added again, brings them
    back with their answers.

    :raise Forbidden: someone else, not an educator of the course, tries.
    :raise NotFound: the person is not a learner of the course.
    """
    leaving = actor.id == user_id
    if not leaving:
        _require_manager(actor, course)
    row = _learner_row(course, user_id)
    learner = row.user
    course_groups_ids = select(StudyGroup.id).where(StudyGroup.course_id == course.id)
    notifications.withdraw_for_groups(course_groups_ids, user_id)
    _move(course, user_id, None)
    db.session.execute(
        delete(Extension).where(
            Extension.user_id == user_id,
            Extension.assignment_id.in_(
                select(Assignment.id).where(Assignment.course_id == course.id)
            ),
        )
    )
    db.session.delete(row)
    audit.record(
        actor,
        "course.left" if leaving else "course.learner_removed",
        subject=learner,
        target=course,
        details={"code": course.code},
    )
    if not leaving:
        notifications.notify(
            [user_id],
            "course",
            _l("You are no longer a learner of %(course)s.", course=course.title),
            "/courses",
        )
    db.session.commit()
    policy.forget_memberships()  # and the course roles
    return learner


def choose_group(user, course: Course, group_id: int) -> StudyGroup:
    if not policy.can_choose_group(user, course):
        raise Forbidden(_("In this course the educators place learners in groups."))
    group = _course_group(course, group_id)
    _move(course, user.id, group)
    db.session.commit()
    policy.forget_memberships()
    return group
