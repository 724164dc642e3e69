"""Who did what in a course: one cell per learner and assignment, and a learner's own cells."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import aliased, joinedload

from coprod_study import policy
from coprod_study.courses.service.assignments import required_question_ids
from coprod_study.courses.service.clock import now_utc
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Assignment,
    Course,
    CourseMember,
    Episode,
    Extension,
    GroupQuestion,
    ListeningProgress,
    Reply,
    StudyGroup,
    StudyQuestion,
)

DUE_SOON = timedelta(days=7)


STATUS_LABELS = {
    "on_time": _l("Done"),
    "late": _l("Done late"),
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "open": _l("Open"),
    "not_open": _l("Not open yet"),
}


TIMING_LABELS = {"on time": _l("on time"), "late": _l("late")}


# The progress page's status chips: the CSV's `status` values, in words.
CHIP_LABELS = {
    "on_time": _l("On time"),
    "late": _l("Late"),
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "open": _l("Open"),
    "not_open": _l("Not open yet"),
}


@dataclass
class Cell:
    """One learner's work on one assignment."""

    assignment: Assignment
    user_id: int
    due_at: datetime
    extended: bool
    listened: bool
    answered: int
    required: int
    replies: int
    completed_at: datetime | None
    now: datetime

    @property
    def complete(self) -> bool:
        return self.listened and self.answered >= self.required

    @property
    def status(self) -> str:
        if self.complete:
            return "late" if self.completed_at and self.completed_at > self.due_at else "on_time"
        if self.now < self.assignment.opens_at:
            return "not_open"
        if self.now > self.due_at:
            return "overdue"
        if self.due_at - self.now <= DUE_SOON:
            return "due_soon"
        return "open"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def timing(self) -> str:
        """Done on time or late ("" while not done: work never done is overdue, not late)."""
        return {"on_time": "on time", "late": "late"}.get(self.status, "")

    @property
    def timing_label(self) -> str:
        """`timing` in the reader's language."""
        return str(TIMING_LABELS[self.timing]) if self.timing else ""

    @property
    def left(self) -> str:
        """What is left, e.g. "2 of 5 questions answered, not marked listened"."""
        if self.complete:
            return gettext("All done")
        if not self.required:
            return gettext("marked listened") if self.listened else gettext("not marked listened")
        if self.listened:
            return ngettext(
                "%(answered)s of %(num)d question answered, marked listened",
                "%(answered)s of %(num)d questions answered, marked listened",
                self.required,
                answered=self.answered,
            )
        return ngettext(
            "%(answered)s of %(num)d question answered, not marked listened",
            "%(answered)s of %(num)d questions answered, not marked listened",
            self.required,
            answered=self.answered,
        )


def _aware(at: datetime | None, now: datetime) -> datetime | None:
    return at.replace(tzinfo=now.tzinfo) if at is not None and at.tzinfo is None else at


def compute_cells(
    assignment_list: list[Assignment],
    learner_ids: list[int],
    learner_filter,
    assignment_filter,
    now: datetime,
    learners_by_course: dict[int, set[int]] | None = None,
) -> dict[tuple[int, int], Cell]:
    """Cells for every (learner, assignment) pair, in four queries.

    `learner_filter(column)` and `assignment_filter` are SQL conditions naming the
    learners and assignments (subqueries rather than long IN lists, so the number
    and shape of queries stay the same whatever the size of the course).
    """
    if not assignment_list or not learner_ids:
        return {}
    episode_ids = {a.episode_id for a in assignment_list}

    # Extensions (per assignment) and listening (per episode) are both a
    # learner, a key and a time: one query brings both.
    dated = db.session.execute(
        union_all(
            select(
                literal("x").label("kind"),
                Extension.user_id,
                Extension.assignment_id,
                Extension.due_at,
            )
            .join(Assignment, Assignment.id == Extension.assignment_id)
            .where(assignment_filter, learner_filter(Extension.user_id)),
            select(
                literal("l"),
                ListeningProgress.user_id,
                ListeningProgress.episode_id,
                ListeningProgress.updated_at,
            ).where(
                ListeningProgress.listened.is_(True),
                ListeningProgress.episode_id.in_(episode_ids),
                learner_filter(ListeningProgress.user_id),
            ),
        )
    ).all()
    extended = {(user_id, key): _aware(at, now) for kind, user_id, key, at in dated if kind == "x"}
    listened = {(user_id, key): _aware(at, now) for kind, user_id, key, at in dated if kind == "l"}
    # A learner's first answer to each question, in any group of the course.
    first_answers: dict[tuple[int, int], dict[int, datetime]] = {}
    rows = db.session.execute(
        select(Answer.user_id, Assignment.id, Answer.study_question_id, func.min(Answer.created_at))
        .join(StudyGroup, StudyGroup.id == Answer.group_id)
        .join(StudyQuestion, StudyQuestion.id == Answer.study_question_id)
        .join(
            Assignment,
            (Assignment.course_id == StudyGroup.course_id)
            & (Assignment.episode_id == StudyQuestion.episode_id),
        )
        .where(Answer.deleted_at.is_(None), assignment_filter, learner_filter(Answer.user_id))
        .group_by(Answer.user_id, Assignment.id, Answer.study_question_id)
    )
    for user_id, assignment_id, question_id, at in rows:
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=now.tzinfo)
        first_answers.setdefault((user_id, assignment_id), {})[question_id] = at
    # Replies under any answer to the episode's questions (catalog or the group's own).
    question_episode = func.coalesce(StudyQuestion.episode_id, GroupQuestion.episode_id)
    answer = aliased(Answer)
    replies = dict(
        ((user_id, assignment_id), count)
        for user_id, assignment_id, count in db.session.execute(
            select(Reply.user_id, Assignment.id, func.count(Reply.id))
            .join(answer, answer.id == Reply.answer_id)
            .join(StudyGroup, StudyGroup.id == answer.group_id)
            .outerjoin(StudyQuestion, StudyQuestion.id == answer.study_question_id)
            .outerjoin(GroupQuestion, GroupQuestion.id == answer.group_question_id)
            .join(
                Assignment,
                (Assignment.course_id == StudyGroup.course_id)
                & (Assignment.episode_id == question_episode),
            )
            .where(Reply.deleted_at.is_(None), assignment_filter, learner_filter(Reply.user_id))
            .group_by(Reply.user_id, Assignment.id)
        )
    )

    cells: dict[tuple[int, int], Cell] = {}
    for assignment in assignment_list:
        required_ids = required_question_ids(assignment)
        course_learners = (
            learners_by_course.get(assignment.course_id, set()) if learners_by_course else None
        )
        for user_id in learner_ids:
            if course_learners is not None and user_id not in course_learners:
                continue
            answered_at = first_answers.get((user_id, assignment.id), {})
            times = [answered_at[q] for q in required_ids if q in answered_at]
            listened_at = listened.get((user_id, assignment.episode_id))
            due = extended.get((user_id, assignment.id))
            cell = Cell(
                assignment=assignment,
                user_id=user_id,
                due_at=due or assignment.due_at,
                extended=due is not None,
                listened=listened_at is not None,
                answered=len(times),
                required=len(required_ids),
                replies=replies.get((user_id, assignment.id), 0),
                completed_at=None,
                now=now,
            )
            if cell.complete:
                cell.completed_at = max([*times, listened_at])
            cells[(user_id, assignment.id)] = cell
    return cells


def assignments_where(course_filter) -> list[Assignment]:
    return list(
        db.session.scalars(
            select(Assignment)
            .options(
                joinedload(Assignment.episode).joinedload(Episode.questions),
                joinedload(Assignment.course),
            )
            .where(course_filter)
            .order_by(Assignment.due_at, Assignment.id)
        ).unique()
    )


# --- A learner's own assignments -----------------------------------------------------


def my_cells(user, course: Course | None = None, now: datetime | None = None) -> list[Cell]:
    """The person's assignments as a learner (in one course, or all), soonest due first."""
    if not getattr(user, "is_authenticated", False):
        return []
    if course is not None and policy.course_role(user, course) != "learner":
        return []  # an educator of the course has no assignments of their own in it
    now = now or now_utc()
    mine = select(CourseMember.course_id).where(
        CourseMember.user_id == user.id, CourseMember.role == "learner"
    )
    course_filter = Assignment.course_id.in_(mine)
    if course is not None:
        course_filter = course_filter & (Assignment.course_id == course.id)
    assignment_list = assignments_where(course_filter)
    cells = compute_cells(
        assignment_list,
        [user.id],
        lambda column: column == user.id,
        course_filter,
        now,
    )
    return sorted(cells.values(), key=lambda c: (c.due_at, c.assignment.id))


def my_due_dates(user, now: datetime | None = None) -> dict[str, list[Cell]]:
    """The home page's "My due dates": overdue, due soon, later, and recently done."""
    groups: dict[str, list[Cell]] = {"overdue": [], "due_soon": [], "later": [], "done": []}
    now = now or now_utc()
    for cell in my_cells(user, now=now):
        if cell.complete:
            if now - cell.due_at <= timedelta(days=14):
                groups["done"].append(cell)
        elif cell.status == "overdue":
            groups["overdue"].append(cell)
        elif cell.status == "due_soon":
            groups["due_soon"].append(cell)
        else:
            groups["later"].append(cell)
    return groups
