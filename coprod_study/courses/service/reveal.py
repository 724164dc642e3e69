"""Answers a course group sees once an assignment's due date has passed."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select

from coprod_study.courses.service.clock import now_utc
from coprod_study.extensions import db
from coprod_study.groups.service import question_episode_id
from coprod_study.models import (
    Assignment,
    Episode,
    Extension,
    StudyGroup,
)

# --- Reveal after the due date ------------------------------------------------------


def revealed_after_due_clause(group, question, viewer=None, now: datetime | None = None):
    """An EXISTS that is true once the group's course opens this question's answers:
    an assignment of its episode asks for it and its due date has passed. For a
    learner with an extension the date is theirs, so a later deadline never comes
    with the others' answers. None for a group outside any course."""
    if getattr(group, "course_id", None) is None:
        return None
    episode_id = question_episode_id(question.study_question_id, question.group_question_id)
    found = select(Assignment.id).where(
        Assignment.course_id == group.course_id,
        Assignment.episode_id == episode_id,
        Assignment.reveal_after_due.is_(True),
    )
    due = Assignment.due_at
    if getattr(viewer, "is_authenticated", False):
        extended, due = _own_due_date(viewer)
        found = found.outerjoin(Extension, extended)
    return found.where(due <= (now or now_utc())).exists()


def _own_due_date(viewer):
    """The join to `viewer`'s extension of an assignment, and their due date: the
    extension's when it is later than the assignment's."""
    extended = (Extension.assignment_id == Assignment.id) & (Extension.user_id == viewer.id)
    due = case((Extension.due_at > Assignment.due_at, Extension.due_at), else_=Assignment.due_at)
    return extended, due


def revealed_after_due_questions(group_ids: list[int], viewer, now: datetime | None = None):
    """The questions of these groups whose answers their course has opened to `viewer`
    by a reveal after the due date (their own extension's date when later), as
    selects of (group id, study question id, group question id) rows for a union."""
    from sqlalchemy import Integer, null

    from coprod_study.models import GroupQuestion, StudyQuestion

    extended, due = _own_due_date(viewer)
    assigned = (Assignment.course_id == StudyGroup.course_id) & Assignment.reveal_after_due.is_(True)
    passed = [StudyGroup.id.in_(group_ids), due <= (now or now_utc())]
    none = null().cast(Integer)
    catalog = (
        select(StudyGroup.id, StudyQuestion.id, none)
        .join(Assignment, assigned)
        .join(StudyQuestion, StudyQuestion.episode_id == Assignment.episode_id)
        .outerjoin(Extension, extended)
        .where(*passed)
    )
    own = (
        select(StudyGroup.id, none, GroupQuestion.id)
        .join(GroupQuestion, GroupQuestion.group_id == StudyGroup.id)
        .join(Assignment, assigned & (Assignment.episode_id == GroupQuestion.episode_id))
        .outerjoin(Extension, extended)
        .where(*passed)
    )
    return [catalog, own]


def revealed_after_due(group, question, now: datetime | None = None, viewer=None) -> bool:
    """Has the course's due date for this question's episode passed (for `viewer`,
    counting their extension), with reveal on?"""
    clause = revealed_after_due_clause(group, question, viewer, now)
    return clause is not None and bool(db.session.scalar(select(clause)))


@dataclass
class GroupAssignment:
    """What a course group's page says about an assigned episode: when it is due for
    the reader (their extension counted) and which question numbers are required."""

    assignment: Assignment
    due_at: datetime
    extended: bool
    required: frozenset[int]

    def is_required(self, number: int) -> bool:
        return number in self.required


def group_assignment(group, episode: Episode, viewer) -> GroupAssignment | None:
    """The course's assignment of `episode`, for a group of that course; else None."""
    if group.course_id is None:
        return None
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.course_id == group.course_id, Assignment.episode_id == episode.id
        )
    )
    if assignment is None:
        return None
    due, extended = assignment.due_at, False
    if getattr(viewer, "is_authenticated", False):
        own = db.session.scalar(
            select(Extension).where(
                Extension.assignment_id == assignment.id, Extension.user_id == viewer.id
            )
        )
        if own is not None and own.due_at > due:
            due, extended = own.due_at, True
    count = len(episode.questions)
    numbers = assignment.required_questions or range(1, count + 1)
    return GroupAssignment(assignment, due, extended, frozenset(numbers))
