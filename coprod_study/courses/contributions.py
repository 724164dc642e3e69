"""Per-learner contribution summary of a course: one grouped query, whatever its size."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import aliased

from coprod_study.courses import checkpoints as checkpoint_service
from coprod_study.courses.progress import assignments_where, spreadsheet_safe
from coprod_study.courses.service import learner_ids_stmt, now_utc
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Assignment,
    CourseMember,
    ListeningProgress,
    Post,
    Reply,
    StudyGroup,
    Thread,
    User,
)

SORT_KEYS = {
    "name": _l("Learner"),
    "answers": _l("Answers"),
    "replies_written": _l("Replies written"),
    "replies_received": _l("Replies received"),
    "words": _l("Words"),
    "thread_posts": _l("Thread posts"),
    "endorsed": _l("Endorsed answers"),
    "listened": _l("Episodes listened"),
    "first_activity": _l("First activity"),
    "last_activity": _l("Last activity"),
}


@dataclass
class Contribution:
    user: User
    answers: int = 0
    replies_written: int = 0
    replies_received: int = 0
    words: int = 0
    thread_posts: int = 0
    endorsed: int = 0
    listened: int = 0
    first_activity: datetime | None = None
    last_activity: datetime | None = None
    # One per checkpoint of the course, in the order of Summary.checkpoints (None: not set).
    checkpoints: list = field(default_factory=list)

    def seen(self, at: datetime | None) -> None:
        if at is None:
            return
        self.first_activity = min(self.first_activity or at, at)
        self.last_activity = max(self.last_activity or at, at)


@dataclass
class Summary:
    course: object
    rows: list[Contribution]
    # (assignment, kind) for every checkpoint of the course, by due date.
    checkpoints: list[tuple[Assignment, str]]
    sort: str
    descending: bool


def _words(column):
    """Words in a text column, counted in SQL as spaces + 1 once line breaks are spaces
    (a close count, the same in SQLite and PostgreSQL)."""
    text = func.trim(func.replace(func.replace(column, "\r", ""), "\n", " "))
    return case(
        (text == "", 0),
        else_=func.length(text) - func.length(func.replace(text, " ", "")) + 1,
    )


def _counts(course_id: int, learners) -> list:
    """Every count in one statement: a grouped SELECT per kind of contribution, UNION ALL."""
    in_course = StudyGroup.course_id == course_id
    answer = aliased(Answer)
    episodes = select(Assignment.episode_id).where(Assignment.course_id == course_id)
    zero = literal(0)
    parts = [
        select(literal("answers"), Answer.user_id, func.count(),
               func.sum(case((Answer.endorsed_at.is_not(None), 1), else_=0)),
               func.sum(_words(Answer.body)), func.min(Answer.created_at),
               func.max(Answer.created_at))
        .join(StudyGroup, StudyGroup.id == Answer.group_id)
        .where(in_course, Answer.deleted_at.is_(None), Answer.user_id.in_(learners))
        .group_by(Answer.user_id),
        select(literal("replies_written"), Reply.user_id, func.count(), zero,
               func.sum(_words(Reply.body)), func.min(Reply.created_at), func.max(Reply.created_at))
        .join(answer, answer.id == Reply.answer_id)
        .join(StudyGroup, StudyGroup.id == answer.group_id)
        .where(in_course, Reply.deleted_at.is_(None), Reply.user_id.in_(learners))
        .group_by(Reply.user_id),
        select(literal("replies_received"), answer.user_id, func.count(), zero, zero,
               func.min(Reply.created_at), func.max(Reply.created_at))
        .join(answer, answer.id == Reply.answer_id)
        .join(StudyGroup, StudyGroup.id == answer.group_id)
        .where(in_course, Reply.deleted_at.is_(None), answer.deleted_at.is_(None),
               Reply.user_id != answer.user_id, answer.user_id.in_(learners))
        .group_by(answer.user_id),
        select(literal("thread_posts"), Post.user_id, func.count(), zero,
               func.sum(_words(Post.body)), func.min(Post.created_at), func.max(Post.created_at))
        .join(Thread, Thread.id == Post.thread_id)
        .join(StudyGroup, StudyGroup.id == Thread.group_id)
        .where(in_course, Post.deleted_at.is_(None), Post.user_id.in_(learners))
        .group_by(Post.user_id),
        select(literal("listened"), ListeningProgress.user_id, func.count(), zero, zero,
               func.min(ListeningProgress.updated_at), func.max(ListeningProgress.updated_at))
        .where(ListeningProgress.listened.is_(True), ListeningProgress.episode_id.in_(episodes),
               ListeningProgress.user_id.in_(learners))
        .group_by(ListeningProgress.user_id),
    ]
    return db.session.execute(union_all(*parts)).all()


def summary(course, viewer_id: int | None = None, *, sort: str = "name",
            descending: bool = False, now: datetime | None = None) -> Summary:
    """Every learner's contributions (or only `viewer_id`'s, for a learner looking at their own)."""
    now = now or now_utc()
    learners = learner_ids_stmt(course.id)
    if viewer_id is not None:
        learners = learners.where(CourseMember.user_id == viewer_id)
    people = list(
        db.session.scalars(
            select(User).where(User.id.in_(learners)).order_by(func.lower(User.display_name), User.id)
        )
    )
    rows = {u.id: Contribution(user=u) for u in people}
    for kind, user_id, count, endorsed, words, first, last in _counts(course.id, learners):
        row = rows.get(user_id)
        if row is None:
            continue
        setattr(row, kind, count)
        if kind == "answers":
            row.endorsed = int(endorsed or 0)
        if kind != "replies_received":
            row.words += int(words or 0)
            for at in (first, last):
                row.seen(at.replace(tzinfo=now.tzinfo) if at and at.tzinfo is None else at)
    assignment_list = assignments_where(Assignment.course_id == course.id)
    states = checkpoint_service.evaluate(
        assignment_list, list(rows), lambda column: column.in_(learners), now
    )
    made = checkpoint_service.checkpoints_for(a.id for a in assignment_list)
    columns = []
    for assignment in assignment_list:
        checkpoint = made.get(assignment.id)
        if checkpoint is None:
            continue
        if checkpoint.answers_due_at:
            columns.append((assignment, "answers"))
        if checkpoint.replies_due_at and checkpoint.replies_required:
            columns.append((assignment, "replies"))
    for row in rows.values():
        mine = {}
        for assignment in assignment_list:
            for state in states.get((row.user.id, assignment.id), []):
                mine[(assignment.id, state.kind)] = state
        row.checkpoints = [mine.get((a.id, kind)) for a, kind in columns]
    ordered = list(rows.values())
    if sort not in SORT_KEYS:
        sort = "name"
    if sort == "name":
        ordered.sort(key=lambda r: (r.user.display_name.lower(), r.user.id), reverse=descending)
    else:
        # Nothing yet (no activity date) sorts first going up, last going down.
        ordered.sort(key=lambda r: (getattr(r, sort) is not None, getattr(r, sort) or 0,
                                    r.user.display_name.lower()), reverse=descending)
    return Summary(course, ordered, columns, sort, descending)


CSV_COLUMNS = (
    "course_code",
    "learner_id",
    "learner_name",
    "learner_email",
    "answers",
    "replies_written",
    "replies_received",
    "words",
    "thread_posts",
    "endorsed_answers",
    "episodes_listened",
    "first_activity_utc",
    "last_activity_utc",
)


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def summary_csv(table: Summary) -> str:
    """One row per learner; a column per checkpoint (`ep3_answers`: on time, late, overdue...)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS + tuple(
        f"ep{a.episode.number}_{kind}_checkpoint" for a, kind in table.checkpoints))
    for row in table.rows:
        writer.writerow(
            spreadsheet_safe(value)
            for value in (
                table.course.code, row.user.id, row.user.display_name, row.user.email,
                row.answers, row.replies_written, row.replies_received, row.words,
                row.thread_posts, row.endorsed, row.listened,
                _iso(row.first_activity), _iso(row.last_activity),
                *((s.timing or s.status) if s else "" for s in row.checkpoints),
            )
        )
    return out.getvalue()
