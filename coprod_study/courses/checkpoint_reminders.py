"""Reminders 48 hours before a checkpoint not yet met: once per learner, assignment and checkpoint."""

from collections import defaultdict
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import insert, or_, select
from sqlalchemy.exc import IntegrityError

from coprod_study.courses import checkpoints as checkpoint_service
from coprod_study.courses.progress import assignments_where
from coprod_study.courses.service import course_path, format_in_zone, now_utc
from coprod_study.extensions import db
from coprod_study.models import (
    Assignment,
    Checkpoint,
    CheckpointExtension,
    CheckpointReminderSent,
    CourseMember,
)
from coprod_study.notifications import service as notifications

REMIND_BEFORE = timedelta(hours=48)


def send_checkpoint_reminders(now: datetime | None = None) -> int:
    """Notify each learner whose checkpoint (possibly extended) falls within 48 hours and
    who has not met it; the claim rows, written with the notifications, make a second
    run send nothing. Notifications reach e-mail through the person's digest setting."""
    now = now or now_utc()
    horizon = now + REMIND_BEFORE

    def soon(column):
        return (column > now) & (column <= horizon)

    extended = select(CheckpointExtension.assignment_id).where(soon(CheckpointExtension.due_at))
    with_soon = select(Checkpoint.assignment_id).where(
        or_(soon(Checkpoint.answers_due_at), soon(Checkpoint.replies_due_at))
    )
    candidate = Assignment.id.in_(with_soon) | Assignment.id.in_(extended)
    assignment_list = assignments_where(candidate)
    if not assignment_list:
        return 0
    course_ids = {a.course_id for a in assignment_list}
    learners = select(CourseMember.user_id).where(
        CourseMember.course_id.in_(course_ids), CourseMember.role == "learner"
    )
    in_course: dict[int, set[int]] = defaultdict(set)
    for course_id, user_id in db.session.execute(
        select(CourseMember.course_id, CourseMember.user_id).where(
            CourseMember.course_id.in_(course_ids), CourseMember.role == "learner"
        )
    ):
        in_course[course_id].add(user_id)
    states = checkpoint_service.evaluate(
        assignment_list, sorted(set().union(*in_course.values())),
        lambda column: column.in_(learners), now,
    )
    already = set(
        db.session.execute(
            select(CheckpointReminderSent.user_id, CheckpointReminderSent.assignment_id,
                   CheckpointReminderSent.kind)
            .where(CheckpointReminderSent.assignment_id.in_([a.id for a in assignment_list]))
        ).all()
    )
    by_id = {a.id: a for a in assignment_list}
    due = [
        (user_id, by_id[assignment_id], state)
        for (user_id, assignment_id), mine in states.items()
        if user_id in in_course[by_id[assignment_id].course_id]
        for state in mine
        if (user_id, assignment_id, state.kind) not in already
        and state.met_at is None and now < state.due_at <= horizon
    ]
    if not due:
        return 0
    db.session.execute(
        insert(CheckpointReminderSent),
        [{"assignment_id": a.id, "user_id": u, "kind": s.kind, "sent_at": now} for u, a, s in due],
    )
    for user_id, assignment, state in due:
        notifications.notify(
            [user_id], "assignment_due", _message(assignment, state),
            course_path(assignment.course), target_type="assignment", target_id=assignment.id,
        )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return 0
    return len(due)


def _message(assignment: Assignment, state) -> LazyString:
    due = LazyString(format_in_zone, state.due_at, "UTC")
    if state.kind == "answers":
        return _l("Answers due %(due)s: episode %(number)s (%(course)s).", due=due,
                  number=assignment.episode.number, course=assignment.course.title)
    return _l("Replies to peers due %(due)s (%(done)s of %(count)s written): episode %(number)s (%(course)s).",
              due=due, done=state.done, count=state.required, number=assignment.episode.number,
              course=assignment.course.title)
