"""The course's progress page, read for speed: learners × assignments in one grouped query.

The page of a course of 300 learners and 12 assignments has 3,600 cells. Built as
objects (coprod_study.courses.progress: a Cell per pair, its status and words as
properties, a template macro per header) it took over half a second. Here:

- the learners with their group, the course's groups and its assignments are read
  in three small queries, and every cell's facts (extension, listening, each
  question's first answer, replies) in ONE statement: the four aggregates side by
  side in a UNION ALL, each grouped per learner and assignment;
- a cell is its facts reduced to a few numbers, and its HTML is made once per
  page for each distinct set of them (a course has a few dozen), so a row is a
  join of ready strings and the template loops over rows only, with no macro;
- the row and column totals are summed in the same pass.

The rules (what is done, late, overdue, due soon) are those of
`coprod_study.courses.progress.Cell`; a test holds the two to the same answer for
every cell. The CSV export still reads through `progress.progress_table`.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import Integer, cast, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from coprod_study.courses import checkpoint_reports
from coprod_study.courses.service.clock import format_in_zone, now_utc
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Assignment,
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
SORT_KEYS = ("name", "group", "done", "late", "overdue", "answered", "replies")
# The status chips: the CSV's `status` values, in words (the same words as
# progress.CHIP_LABELS).
CHIP_WORDS = {
    "on_time": _l("On time"),
    "late": _l("Late"),
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "open": _l("Open"),
    "not_open": _l("Not open yet"),
}


@dataclass
class Column:
    """One assignment: its header and the column's totals (as shown in the footer)."""

    id: int
    episode_id: int
    episode_number: int
    opens_at: datetime
    due_at: datetime
    due_text: str
    required_ids: tuple
    listened: int = 0
    done: int = 0
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    answered: int = 0
    required: int = 0
    replies: int = 0


@dataclass
class Row:
    """One learner: name, group, and as ready HTML (`cells`) the row's cells and its
    sums (done, late, overdue, answered, replies), which are numbers and words only."""

    user_id: int
    name: str
    group_name: str | None
    cells: Markup
    count: int
    done: int = 0
    late: int = 0
    overdue: int = 0
    answered: int = 0
    required: int = 0
    replies: int = 0


@dataclass
class GroupChoice:
    id: int
    slug: str
    name: str


@dataclass
class ProgressView:
    columns: list[Column]
    rows: list[Row]
    groups: list[GroupChoice]
    group_filter: str | None
    unknown_group: bool
    sort: str
    descending: bool
    extra: dict = field(default_factory=dict)
    # assignment id -> its Checkpoint (courses.checkpoints), read by the column headers
    checkpoints: dict = field(default_factory=dict)

    @property
    def assignments(self) -> list[Column]:
        return self.columns


def _aware(at, zone):
    return at.replace(tzinfo=zone) if at is not None and at.tzinfo is None else at


def _columns(course, zone_name: str) -> list[Column]:
    """The course's assignments, soonest due first, with the ids of their required
    questions (catalog questions by position, as `required_question_ids` reads them)."""
    rows = db.session.execute(
        select(Assignment.id, Assignment.episode_id, Episode.number, Assignment.opens_at,
               Assignment.due_at, Assignment.required_questions, StudyQuestion.id)
        .join(Episode, Episode.id == Assignment.episode_id)
        .outerjoin(StudyQuestion, StudyQuestion.episode_id == Episode.id)
        .where(Assignment.course_id == course.id)
        .order_by(Assignment.due_at, Assignment.id, StudyQuestion.position, StudyQuestion.id)
    ).all()
    columns: dict[int, Column] = {}
    questions: dict[int, list[int]] = {}
    wanted: dict[int, object] = {}
    for a_id, episode_id, number, opens_at, due_at, required, question_id in rows:
        if a_id not in columns:
            columns[a_id] = Column(a_id, episode_id, number, opens_at, due_at,
                                   format_in_zone(due_at, zone_name), ())
            questions[a_id] = []
            wanted[a_id] = required
        if question_id is not None:
            questions[a_id].append(question_id)
    for a_id, column in columns.items():
        ids = questions[a_id]
        if wanted[a_id] is None:
            column.required_ids = tuple(ids)
        else:
            chosen = set(wanted[a_id])
            column.required_ids = tuple(q for n, q in enumerate(ids, start=1) if n in chosen)
    return list(columns.values())


def _facts(course_id: int):
    """Every cell's facts in one statement: (kind, user, key, question, at, count).

    kind "x": an extension (key: assignment, at: the extended due date);
    "l": listened (key: episode, at: when marked); "a": a question's first answer in
    one of the course's groups (key: assignment, at: its time); "r": replies under
    answers to the assignment's episode in the course's groups (count).

    The answers and replies are those of everyone in the course's groups (a few
    are an educator's, whose rows no cell looks up): filtered by the course's
    learners, SQLite would read each learner's replies in every group there is."""
    learners = select(CourseMember.user_id).where(
        CourseMember.course_id == course_id, CourseMember.role == "learner"
    )
    assigned = select(Assignment.episode_id).where(Assignment.course_id == course_id)
    no_question = cast(null(), Integer)
    answer = aliased(Answer)
    question_episode = func.coalesce(StudyQuestion.episode_id, GroupQuestion.episode_id)
    return union_all(
        select(literal("x").label("kind"), Extension.user_id, Extension.assignment_id,
               no_question.label("question_id"), Extension.due_at.label("at"),
               literal(0).label("n"))
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .where(Assignment.course_id == course_id, Extension.user_id.in_(learners)),
        select(literal("l"), ListeningProgress.user_id, ListeningProgress.episode_id,
               no_question, ListeningProgress.updated_at, literal(0))
        .where(ListeningProgress.listened.is_(True),
               ListeningProgress.episode_id.in_(assigned),
               ListeningProgress.user_id.in_(learners)),
        select(literal("a"), Answer.user_id, Assignment.id, Answer.study_question_id,
               func.min(Answer.created_at), literal(0))
        .join(StudyGroup, StudyGroup.id == Answer.group_id)
        .join(StudyQuestion, StudyQuestion.id == Answer.study_question_id)
        .join(Assignment, (Assignment.course_id == StudyGroup.course_id)
              & (Assignment.episode_id == StudyQuestion.episode_id))
        .where(Answer.deleted_at.is_(None), Assignment.course_id == course_id)
        .group_by(Answer.user_id, Assignment.id, Answer.study_question_id),
        select(literal("r"), Reply.user_id, Assignment.id, no_question,
               cast(null(), Extension.due_at.type), func.count(Reply.id))
        .join(answer, answer.id == Reply.answer_id)
        .join(StudyGroup, StudyGroup.id == answer.group_id)
        .outerjoin(StudyQuestion, StudyQuestion.id == answer.study_question_id)
        .outerjoin(GroupQuestion, GroupQuestion.id == answer.group_question_id)
        .join(Assignment, (Assignment.course_id == StudyGroup.course_id)
              & (Assignment.episode_id == question_episode))
        .where(Reply.deleted_at.is_(None), Assignment.course_id == course_id)
        .group_by(Reply.user_id, Assignment.id),
    )


def _learners(course_id: int):
    """The course's learners by name, each with the course groups they are active in."""
    in_course = select(StudyGroup.id).where(StudyGroup.course_id == course_id)
    return db.session.execute(
        select(User.id, User.display_name, Membership.group_id)
        .join(CourseMember, CourseMember.user_id == User.id)
        .outerjoin(Membership, (Membership.user_id == User.id)
                   & (Membership.status == "active") & Membership.group_id.in_(in_course))
        .where(CourseMember.course_id == course_id, CourseMember.role == "learner")
        .order_by(func.lower(User.display_name), User.id)
    ).all()


class _CellHtml:
    """A cell's HTML from its few numbers, made once per distinct set on a page."""

    def __init__(self):
        self.listened = escape(gettext("Listened"))
        self.not_listened = escape(gettext("Not listened"))
        self.extended = escape(gettext("(ext.)"))
        self.answered = gettext("%(answered)s/%(required)s answered")
        self.chips = {key: escape(str(word)) for key, word in CHIP_WORDS.items()}
        self.done_of = gettext("%(done)s of %(count)s")
        self.made: dict[tuple, str] = {}

    def __call__(self, key: tuple) -> str:
        status, extended, listened, answered, required, replies = key
        extension = f" {self.extended}" if extended else ""
        heard = self.listened if listened else self.not_listened
        count = escape(self.answered % {"answered": answered, "required": required})
        said = escape(ngettext("%(count)s reply", "%(count)s replies", replies, count=replies))
        html = (f'<td><span class="chip chip-{status}">{self.chips[status]}</span>{extension}'
                f"<br>{heard}<br>{count}<br>{said}</td>")
        self.made[key] = html
        return html


def progress_view(course, *, group: str | None = None, sort: str = "name",
                  descending: bool = False, zone_name: str = "UTC",
                  now: datetime | None = None) -> ProgressView:
    """Learners × assignments. `group` is a group slug, "none" (not placed) or None (all)."""
    now = now or now_utc()
    zone = now.tzinfo
    groups = [GroupChoice(*row) for row in db.session.execute(
        select(StudyGroup.id, StudyGroup.slug, StudyGroup.name)
        .where(StudyGroup.course_id == course.id).order_by(StudyGroup.name, StudyGroup.id)
    )]
    rank = {g.id: n for n, g in enumerate(groups)}
    placed: dict[int, GroupChoice] = {}
    names: dict[int, str] = {}
    for user_id, name, group_id in _learners(course.id):
        names.setdefault(user_id, name)
        if group_id in rank and (user_id not in placed or rank[group_id] < rank[placed[user_id].id]):
            placed[user_id] = groups[rank[group_id]]
    learner_ids = list(names)
    unknown_group = False
    if group == "none":
        learner_ids = [u for u in learner_ids if u not in placed]
    elif group:
        chosen = next((g for g in groups if g.slug == group), None)
        if chosen is None:
            unknown_group, group = True, None
        else:
            learner_ids = [u for u in learner_ids if placed.get(u) is chosen]
    columns = _columns(course, zone_name)
    checkpoints, states = checkpoint_reports.table_states(course, columns, learner_ids, now)
    checkpoint_html = checkpoint_reports.CellHtml()

    extended: dict[tuple, datetime] = {}
    listened: dict[tuple, datetime] = {}
    first: dict[tuple, dict] = {}
    replies: dict[tuple, int] = {}
    if columns and learner_ids:
        for kind, user_id, key, question_id, at, n in db.session.execute(_facts(course.id)):
            if kind == "a":
                first.setdefault((user_id, key), {})[question_id] = _aware(at, zone)
            elif kind == "r":
                replies[(user_id, key)] = n
            elif kind == "l":
                listened[(user_id, key)] = _aware(at, zone)
            else:
                extended[(user_id, key)] = _aware(at, zone)

    make = _CellHtml()
    made = make.made
    rows: list[Row] = []
    for user_id in learner_ids:
        chosen = placed.get(user_id)
        row = Row(user_id, names[user_id], chosen.name if chosen else None, Markup(""),
                  len(columns))
        parts = []
        for column in columns:
            pair = (user_id, column.id)
            due = extended.get(pair)
            is_extended = due is not None
            due = due or column.due_at
            heard_at = listened.get((user_id, column.episode_id))
            answered_at = first.get(pair)
            times = ([answered_at[q] for q in column.required_ids if q in answered_at]
                     if answered_at else [])
            required = len(column.required_ids)
            answered = len(times)
            if heard_at is not None and answered >= required:
                done_at = max([*times, heard_at])
                status = "late" if done_at > due else "on_time"
            elif now < column.opens_at:
                status = "not_open"
            elif now > due:
                status = "overdue"
            elif due - now <= DUE_SOON:
                status = "due_soon"
            else:
                status = "open"
            wrote = replies.get(pair, 0)
            key = (status, is_extended, heard_at is not None, answered, required, wrote)
            html = made.get(key) or make(key)
            if pair in states:
                html = checkpoint_html(html, states[pair])
            parts.append(html)
            done = status in ("on_time", "late")
            row.done += done
            row.late += status == "late"
            row.overdue += status == "overdue"
            row.answered += answered
            row.required += required
            row.replies += wrote
            column.listened += heard_at is not None
            column.done += done
            column.on_time += status == "on_time"
            column.late += status == "late"
            column.overdue += status == "overdue"
            column.answered += answered
            column.required += required
            column.replies += wrote
        done_text = escape(make.done_of % {"done": row.done, "count": row.count})
        parts.append(f"<td>{done_text}</td><td>{row.late}</td><td>{row.overdue}</td>"
                     f"<td>{row.answered}/{row.required}</td><td>{row.replies}</td>")
        # Each part is built from escaped words and numbers only (_CellHtml).
        row.cells = Markup("".join(parts))  # noqa: S704
        rows.append(row)

    if sort not in SORT_KEYS:
        sort = "name"
    if sort != "name":
        key = {
            "group": lambda r: (r.group_name is None, (r.group_name or "").lower(),
                                r.name.lower()),
            "done": lambda r: (r.done, r.name.lower()),
            "late": lambda r: (r.late, r.name.lower()),
            "overdue": lambda r: (r.overdue, r.name.lower()),
            "answered": lambda r: (r.answered, r.name.lower()),
            "replies": lambda r: (r.replies, r.name.lower()),
        }[sort]
        rows.sort(key=key, reverse=descending)
    else:
        rows.sort(key=lambda r: (r.name.lower(), r.user_id), reverse=descending)
    return ProgressView(columns, rows, groups, group, unknown_group, sort, descending,
                        checkpoints=checkpoints)



def progress_content(course, *, group: str | None, sort: str, descending: bool,
                     zone_name: str) -> Markup:
    """The progress page's content (filter, table, totals) as HTML, kept once for every
    educator of the course (coprod_study.page_cache.kept_part): it shows nothing of
    the reader but their time zone and language, which are in the key. The caller
    has checked that the reader may see it."""
    from flask import render_template

    from coprod_study import page_cache

    def build() -> str:
        view = progress_view(course, group=group, sort=sort, descending=descending,
                             zone_name=zone_name)
        return render_template("courses/_progress_content.html", course=course, table=view)

    key = ("courses.progress", course.id, group, sort, descending, zone_name)
    # The course itself (title, code) was read before, by the view.
    html = page_cache.kept_part(key, build, also_depends=("courses",))
    return Markup(html)  # noqa: S704 (rendered by Jinja, autoescaped)
