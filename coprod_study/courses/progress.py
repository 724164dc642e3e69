"""Who did what in a course: per learner and assignment, in a fixed number of queries."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, union_all
from sqlalchemy.orm import aliased, joinedload

from coprod_study import policy
from coprod_study.courses.service import learner_ids_stmt, now_utc, required_question_ids
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
    Membership,
    Reply,
    StudyGroup,
    StudyQuestion,
    User,
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


# --- The course's progress table ------------------------------------------------------


SORT_KEYS = {
    "name": _l("Name"),
    "group": _l("Group"),
    "done": _l("Assignments done"),
    "late": _l("Late"),
    "overdue": _l("Overdue"),
    "answered": _l("Questions answered"),
    "replies": _l("Replies written"),
}


@dataclass
class LearnerRow:
    user: User
    group: StudyGroup | None
    cells: list[Cell]

    @property
    def done(self) -> int:
        return sum(1 for c in self.cells if c.complete)

    @property
    def late(self) -> int:
        return sum(1 for c in self.cells if c.status == "late")

    @property
    def overdue(self) -> int:
        return sum(1 for c in self.cells if c.status == "overdue")

    @property
    def answered(self) -> int:
        return sum(c.answered for c in self.cells)

    @property
    def required(self) -> int:
        return sum(c.required for c in self.cells)

    @property
    def replies(self) -> int:
        return sum(c.replies for c in self.cells)

    @property
    def listened(self) -> int:
        return sum(1 for c in self.cells if c.listened)


@dataclass
class AssignmentTotal:
    assignment: Assignment
    listened: int = 0
    done: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    answered: int = 0
    required: int = 0
    replies: int = 0


@dataclass
class ProgressTable:
    course: Course
    assignments: list[Assignment]
    rows: list[LearnerRow]
    totals: list[AssignmentTotal]
    groups: list[StudyGroup]
    group_filter: str | None
    unknown_group: bool
    sort: str
    descending: bool


def _groups_and_placements(course: Course) -> tuple[list[StudyGroup], dict[int, StudyGroup]]:
    """The course's groups by name, and each placed learner's group, in one query."""
    rows = db.session.execute(
        select(StudyGroup, Membership.user_id)
        .outerjoin(
            Membership,
            (Membership.group_id == StudyGroup.id) & (Membership.status == "active"),
        )
        .where(StudyGroup.course_id == course.id)
        .order_by(StudyGroup.name, StudyGroup.id)
    ).all()
    groups: dict[int, StudyGroup] = {}
    placed: dict[int, StudyGroup] = {}
    for group, user_id in rows:
        groups.setdefault(group.id, group)
        if user_id is not None:
            placed.setdefault(user_id, group)
    return list(groups.values()), placed


def progress_table(
    course: Course,
    *,
    group: str | None = None,
    sort: str = "name",
    descending: bool = False,
    now: datetime | None = None,
) -> ProgressTable:
    """Learners × assignments. `group` is a group slug, "none" (not placed) or None (all)."""
    now = now or now_utc()
    groups, placed = _groups_and_placements(course)
    learners = list(
        db.session.scalars(
            select(User)
            .join(CourseMember, CourseMember.user_id == User.id)
            .where(CourseMember.course_id == course.id, CourseMember.role == "learner")
            .order_by(func.lower(User.display_name), User.id)
        )
    )
    unknown_group = False
    if group == "none":
        learners = [u for u in learners if u.id not in placed]
    elif group:
        chosen = next((g for g in groups if g.slug == group), None)
        if chosen is None:
            unknown_group, group = True, None
        else:
            learners = [u for u in learners if placed.get(u.id) is chosen]
    assignment_list = assignments_where(Assignment.course_id == course.id)
    learners_in_course = learner_ids_stmt(course.id)
    cells = compute_cells(
        assignment_list,
        [u.id for u in learners],
        lambda column: column.in_(learners_in_course),
        Assignment.course_id == course.id,
        now,
    )
    rows = [
        LearnerRow(
            user=u,
            group=placed.get(u.id),
            cells=[cells[(u.id, a.id)] for a in assignment_list],
        )
        for u in learners
    ]
    if sort not in SORT_KEYS:
        sort = "name"
    sort_key = {
        "name": lambda r: (r.user.display_name.lower(), r.user.id),
        "group": lambda r: (r.group is None, r.group.name.lower() if r.group else "",
                            r.user.display_name.lower()),
        "done": lambda r: (r.done, r.user.display_name.lower()),
        "late": lambda r: (r.late, r.user.display_name.lower()),
        "overdue": lambda r: (r.overdue, r.user.display_name.lower()),
        "answered": lambda r: (r.answered, r.user.display_name.lower()),
        "replies": lambda r: (r.replies, r.user.display_name.lower()),
    }[sort]
    rows.sort(key=sort_key, reverse=descending)
    totals = []
    for index, assignment in enumerate(assignment_list):
        total = AssignmentTotal(assignment=assignment)
        for row in rows:
            cell = row.cells[index]
            total.listened += cell.listened
            total.done += cell.complete
            total.on_time += cell.status == "on_time"
            total.late += cell.status == "late"
            total.overdue += cell.status == "overdue"
            total.answered += cell.answered
            total.required += cell.required
            total.replies += cell.replies
        totals.append(total)
    return ProgressTable(
        course=course,
        assignments=assignment_list,
        rows=rows,
        totals=totals,
        groups=groups,
        group_filter=group,
        unknown_group=unknown_group,
        sort=sort,
        descending=descending,
    )


# --- CSV export -------------------------------------------------------------------------

# Stable: documented in README.md under "Progress CSV columns"; add, never rename.
CSV_COLUMNS = (
    "course_code",
    "learner_id",
    "learner_name",
    "learner_email",
    "group",
    "assignment_id",
    "episode_number",
    "episode_title",
    "opens_at_utc",
    "due_at_utc",
    "extended_due_at_utc",
    "listened",
    "questions_answered",
    "questions_required",
    "replies_written",
    "completed_at_utc",
    "status",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    """Text a spreadsheet will not run: a cell starting like a formula gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def progress_csv(table: ProgressTable, extra_columns=(), extra=None) -> str:
    """One row per learner per assignment; a byte-order mark so spreadsheets read UTF-8.

    `extra(user_id, assignment_id)` gives the values of `extra_columns`, written last.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS + tuple(extra_columns))
    for row in table.rows:
        for cell in row.cells:
            assignment = cell.assignment
            writer.writerow(
                spreadsheet_safe(value)
                for value in (
                    table.course.code,
                    row.user.id,
                    row.user.display_name,
                    row.user.email,
                    row.group.name if row.group else "",
                    assignment.id,
                    assignment.episode.number,
                    assignment.episode.title,
                    _iso(assignment.opens_at),
                    _iso(assignment.due_at),
                    _iso(cell.due_at) if cell.extended else "",
                    "yes" if cell.listened else "no",
                    cell.answered,
                    cell.required,
                    cell.replies,
                    _iso(cell.completed_at),
                    cell.status,
                    *(extra(row.user.id, assignment.id) if extra else ()),
                )
            )
    return out.getvalue()
