"""Assignments: an episode set for a course, when it opens and is due, its required questions."""

import re
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from coprod_study.courses.service.clock import format_in_zone, now_utc, to_utc
from coprod_study.courses.service.courses import _require_manager, course_path
from coprod_study.courses.service.roster import learner_ids_stmt
from coprod_study.errors import Conflict, DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.groups.service import check_markdown
from coprod_study.markup import render_markdown
from coprod_study.models import (
    Assignment,
    Course,
    Episode,
)
from coprod_study.notifications import service as notifications

# --- Assignments ----------------------------------------------------------------------


def assignments(course: Course) -> list[Assignment]:
    return list(
        db.session.scalars(
            select(Assignment)
            .options(joinedload(Assignment.episode).selectinload(Episode.questions))
            .where(Assignment.course_id == course.id)
            .order_by(Assignment.due_at, Assignment.id)
        )
    )


def get_assignment(course: Course, assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.course_id != course.id:
        raise NotFound(_("There is no such assignment in this course."))
    return assignment


def parse_required(text: str | list[str] | None, episode: Episode) -> list[int] | None:
    """ "1, 3" (or the ticked boxes ["1", "3"]) -> [1, 3]; empty -> None (every
    question of the episode)."""
    if isinstance(text, list | tuple):
        parts = [str(part).strip() for part in text]
    else:
        parts = re.split(r"[\s,;]+", (text or "").strip())
    count = len(episode.questions)
    numbers: list[int] = []
    for part in parts:
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= count:
            raise DomainError(
                _("“%(part)s” is not a question of episode %(number)s; use numbers from 1 to %(count)s, or leave empty for all.", part=part[:20], number=episode.number, count=count),
                field="required_questions",
            )
        if int(part) not in numbers:
            numbers.append(int(part))
    return sorted(numbers) or None


def required_question_ids(assignment: Assignment) -> list[int]:
    questions = assignment.episode.questions
    if assignment.required_questions is None:
        return [q.id for q in questions]
    wanted = set(assignment.required_questions)
    return [q.id for number, q in enumerate(questions, start=1) if number in wanted]


class PastDueDate(DomainError):
    """A due date that has already passed: saved only once the educator confirms it."""


def _assignment_fields(course, *, episode_id, opens_at, due_at, instructions, required,
                       past_due_confirmed=False, previous_due=None, viewer_zone=None):
    episode = (
        db.session.scalar(
            select(Episode).options(selectinload(Episode.questions)).where(Episode.id == episode_id)
        )
        if isinstance(episode_id, int)
        else None
    )
    if episode is None:
        raise DomainError(_("Choose an episode from the catalog."), field="episode_id")
    if due_at is None:
        raise DomainError(_("Enter the due date and time."), field="due_at")
    now = now_utc().replace(second=0, microsecond=0)
    # No opening time: the assignment opens now, as most course tools do.
    opens = now if opens_at is None else to_utc(opens_at, course.time_zone, "opens_at")
    due = to_utc(due_at, course.time_zone, "due_at")
    if due <= opens:
        raise DomainError(_("The due date must come after the opening date."), field="due_at")
    # The form shows minutes, so a date kept as it was may come back without its seconds.
    unchanged = previous_due is not None and due == previous_due.replace(second=0, microsecond=0)
    if due <= now and not unchanged and not past_due_confirmed:
        raise PastDueDate(
            _(
                "%(due)s has already passed, so every learner would be overdue at once. "
                "Choose a later date, or tick “The due date is in the past, save it anyway”.",
                due=format_in_zone(due, viewer_zone),
            ),
            field="due_at",
        )
    instructions = check_markdown(instructions, "instructions")
    return {
        "episode": episode,
        "opens_at": opens,
        "due_at": due,
        "instructions": instructions,
        "instructions_html": str(render_markdown(instructions)),
        "required_questions": parse_required(required, episode),
    }


def create_assignment(
    actor,
    course: Course,
    *,
    episode_id: int | None,
    opens_at: datetime | None,
    due_at: datetime | None,
    instructions: str = "",
    required: str | list[str] | None = None,
    reveal_after_due: bool = False,
    past_due_confirmed: bool = False,
) -> Assignment:
    """Dates are wall-clock times in the course's time zone; stored in UTC. No
    `opens_at` opens it now; a due date already past needs `past_due_confirmed`.

    :raise PastDueDate: the due date has passed and that is not confirmed.
    """
    _require_manager(actor, course)
    values = _assignment_fields(
        course,
        episode_id=episode_id,
        opens_at=opens_at,
        due_at=due_at,
        instructions=instructions,
        required=required,
        past_due_confirmed=past_due_confirmed,
        viewer_zone=getattr(actor, "time_zone", None),
    )
    episode = values.pop("episode")
    taken = select(Assignment.id).where(
        Assignment.course_id == course.id, Assignment.episode_id == episode.id
    )
    if db.session.scalar(taken):
        raise Conflict(_("This episode is already assigned in this course."), "episode_id")
    assignment = Assignment(
        course_id=course.id,
        episode_id=episode.id,
        reveal_after_due=bool(reveal_after_due),
        created_by_id=actor.id,
        **values,
    )
    db.session.add(assignment)
    notifications.notify(
        db.session.scalars(learner_ids_stmt(course.id)).all(),
        "course",
        _l(
            "New assignment in %(course)s: episode %(number)s, %(title)s.",
            course=course.title,
            number=episode.number,
            title=episode.title,
        ),
        course_path(course),
    )
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("This episode is already assigned in this course."), "episode_id") from error
    return assignment


def update_assignment(
    actor,
    assignment: Assignment,
    *,
    episode_id: int | None,
    opens_at: datetime | None,
    due_at: datetime | None,
    instructions: str = "",
    required: str | list[str] | None = None,
    reveal_after_due: bool = False,
    past_due_confirmed: bool = False,
) -> Assignment:
    """As `create_assignment`; keeping a due date that has already passed needs no
    confirmation, moving it into the past does."""
    course = assignment.course
    _require_manager(actor, course)
    values = _assignment_fields(
        course,
        episode_id=episode_id,
        opens_at=opens_at,
        due_at=due_at,
        instructions=instructions,
        required=required,
        past_due_confirmed=past_due_confirmed,
        previous_due=assignment.due_at,
        viewer_zone=getattr(actor, "time_zone", None),
    )
    episode = values.pop("episode")
    if episode.id != assignment.episode_id and db.session.scalar(
        select(Assignment.id).where(
            Assignment.course_id == course.id, Assignment.episode_id == episode.id
        )
    ):
        raise Conflict(_("This episode is already assigned in this course."), "episode_id")
    assignment.episode_id = episode.id
    for name, value in values.items():
        setattr(assignment, name, value)
    assignment.reveal_after_due = bool(reveal_after_due)
    assignment.revision += 1
    assignment.updated_at = now_utc()
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("This episode is already assigned in this course."), "episode_id") from error
    return assignment
