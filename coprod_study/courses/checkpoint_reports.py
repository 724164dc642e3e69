"""Checkpoints where they are reported: the progress table and its CSV, the calendar feeds."""

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import escape
from sqlalchemy import select

from coprod_study.courses.checkpoints import State, checkpoints_for, evaluate
from coprod_study.extensions import db
from coprod_study.models import Assignment, Checkpoint, CheckpointExtension, CourseMember


@dataclass
class TableCheckpoints:
    of: dict[int, Checkpoint]  # assignment id -> its checkpoints
    states: dict[tuple[int, int], list[State]]

    def state(self, user_id: int, assignment_id: int, kind: str) -> State | None:
        return next(
            (s for s in self.states.get((user_id, assignment_id), []) if s.kind == kind), None
        )


def for_table(table, now: datetime | None = None) -> TableCheckpoints:
    """The checkpoints of a progress table's assignments and each of its learners' states."""
    from coprod_study.courses.service import learner_ids_stmt

    in_course = learner_ids_stmt(table.course.id)
    return TableCheckpoints(
        of=checkpoints_for(a.id for a in table.assignments),
        states=evaluate(
            table.assignments, [r.user.id for r in table.rows],
            lambda column: column.in_(in_course), now,
        ),
    )


# Added after the progress CSV's own columns (add, never rename).
CSV_COLUMNS = (
    "answers_due_at_utc",
    "answers_checkpoint",
    "replies_required",
    "replies_due_at_utc",
    "replies_to_peers",
    "replies_checkpoint",
)


def _iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def csv_values(checkpoints: TableCheckpoints):
    """The checkpoint columns of one (learner, assignment) row, for progress_csv(extra=...)."""

    def values(user_id: int, assignment_id: int) -> tuple:
        answers = checkpoints.state(user_id, assignment_id, "answers")
        replies = checkpoints.state(user_id, assignment_id, "replies")
        return (
            _iso(answers.due_at) if answers else "",
            (answers.timing or answers.status) if answers else "",
            replies.required if replies else "",
            _iso(replies.due_at) if replies else "",
            replies.done if replies else "",
            (replies.timing or replies.status) if replies else "",
        )

    return values


def calendar_events(user, assignments: list[Assignment]) -> list:
    """A feed's checkpoint events: the person's own (extended) dates when they are a
    learner of the course, the checkpoint's dates for everyone else."""
    from icalendar import Event

    from coprod_study import policy

    checkpoints = checkpoints_for(a.id for a in assignments)
    if not checkpoints:
        return []
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "coprod-study.local"
    extended = {
        (e.assignment_id, e.kind): e
        for e in db.session.scalars(
            select(CheckpointExtension).where(
                CheckpointExtension.user_id == user.id,
                CheckpointExtension.assignment_id.in_(list(checkpoints)),
            )
        )
    }
    events = []
    for assignment in assignments:
        checkpoint = checkpoints.get(assignment.id)
        if checkpoint is None:
            continue
        learner = policy.course_role(user, assignment.course_id) == "learner"
        episode, course = assignment.episode, assignment.course
        for kind, due in (("answers", checkpoint.answers_due_at),
                          ("replies", checkpoint.replies_due_at)):
            if due is None:
                continue
            extension = extended.get((assignment.id, kind)) if learner else None
            if kind == "answers":
                summary = _("Answers due: episode %(number)s (%(code)s)",
                            number=episode.number, code=course.code)
            else:
                summary = ngettext(
                    "%(num)s reply to peers due: episode %(number)s (%(code)s)",
                    "%(num)s replies to peers due: episode %(number)s (%(code)s)",
                    checkpoint.replies_required, number=episode.number, code=course.code,
                )
            changed = max(checkpoint.updated_at, extension.created_at) if extension else checkpoint.updated_at
            event = Event()
            # Beside the assignment's own event (courses.calendar), stable at every fetch.
            event.add("uid", f"{kind}-assignment-{assignment.id}@{host}")
            event.add("dtstamp", changed)
            event.add("last-modified", changed)
            event.add("sequence", assignment.revision + (1 if extension else 0))
            event.add("dtstart", extension.due_at if extension else due)
            event.add("dtend", extension.due_at if extension else due)
            event.add("summary", summary)
            event.add("description", _("A checkpoint of %(course)s.", course=course.title))
            event.add("transp", "TRANSPARENT")
            events.append(event)
    return events


def table_states(course, columns, learner_ids, now):
    """For the progress page (courses.progress_table): the assignments' checkpoints (one
    query) and, where any is set, each learner's states towards them (`evaluate`: a few
    queries whatever the number of learners). `columns` have the assignments' ids."""
    found = checkpoints_for(c.id for c in columns)
    if not found or not learner_ids:
        return found, {}
    learners = select(CourseMember.user_id).where(
        CourseMember.course_id == course.id, CourseMember.role == "learner"
    )
    assignments = db.session.scalars(select(Assignment).where(Assignment.id.in_(list(found))))
    return found, evaluate(list(assignments), learner_ids, lambda column: column.in_(learners), now)


class CellHtml:
    """A progress cell's HTML with its checkpoints' states added, from escaped words
    and numbers only (few cells have any: only assignments with checkpoints)."""

    def __init__(self):
        self.answers = escape(_("Answers checkpoint:"))
        self.replies = _("Replies checkpoint (%(done)s/%(required)s):")
        self.extended = escape(_("(ext.)"))

    def __call__(self, html: str, states) -> str:
        parts = []
        for state in states:
            if state.kind == "answers":
                title = self.answers
            else:
                title = escape(self.replies % {"done": state.done, "required": state.required})
            extension = f" {self.extended}" if state.extended else ""
            parts.append(f'<br>{title} <span class="chip chip-{escape(state.status)}">'
                         f"{escape(state.status_label)}</span>{extension}")
        return html[: -len("</td>")] + "".join(parts) + "</td>"
