"""The course's progress table, in a fixed number of queries, and its CSV."""

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from coprod_study.courses.progress.cells import Cell, assignments_where, compute_cells
from coprod_study.courses.service.clock import now_utc
from coprod_study.courses.service.roster import learner_ids_stmt
from coprod_study.extensions import db
from coprod_study.models import (
    Assignment,
    Course,
    CourseMember,
    Membership,
    StudyGroup,
    User,
)

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
