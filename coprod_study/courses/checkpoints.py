"""Checkpoints on an assignment: its answers by one date, N replies to peers by a later one.

Each checkpoint is optional and has extensions of its own. States are worked out
for any number of learners in a fixed number of queries (four), like the progress table.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from coprod_study import audit, policy
from coprod_study.courses.service import (
    format_in_zone,
    now_utc,
    required_question_ids,
    to_utc,
)
from coprod_study.errors import DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Assignment,
    Checkpoint,
    CheckpointExtension,
    GroupQuestion,
    Reply,
    StudyGroup,
    StudyQuestion,
    User,
)

KINDS = ("answers", "replies")
MAX_REPLIES = 50
DUE_SOON = timedelta(days=7)
STATUS_LABELS = {
    "on_time": _l("On time"),
    "late": _l("Late"),
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "open": _l("Open"),
}


@dataclass
class State:
    """One learner's progress towards one checkpoint."""

    kind: str
    due_at: datetime
    extended: bool
    required: int
    done: int
    met_at: datetime | None
    now: datetime

    @property
    def status(self) -> str:
        if self.met_at is not None:
            return "late" if self.met_at > self.due_at else "on_time"
        if self.now > self.due_at:
            return "overdue"
        return "due_soon" if self.due_at - self.now <= DUE_SOON else "open"

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[self.status])

    @property
    def timing(self) -> str:
        """"on time", "late" or "" (not met yet), as in the progress CSV."""
        return {"on_time": "on time", "late": "late"}.get(self.status, "")


def _aware(at, now):
    return at.replace(tzinfo=now.tzinfo) if at is not None and at.tzinfo is None else at


def checkpoints_for(assignment_ids) -> dict[int, Checkpoint]:
    ids = list(assignment_ids)
    if not ids:
        return {}
    return {
        c.assignment_id: c
        for c in db.session.scalars(select(Checkpoint).where(Checkpoint.assignment_id.in_(ids)))
    }


def evaluate(
    assignments: list[Assignment], learner_ids: list[int], learner_filter, now: datetime | None = None
) -> dict[tuple[int, int], list[State]]:
    """(learner id, assignment id) -> the states of that assignment's checkpoints.

    `learner_filter(column)` is an SQL condition naming the learners (a subquery,
    so the queries keep their shape whatever the number of learners).
    """
    now = now or now_utc()
    checkpoints = checkpoints_for(a.id for a in assignments)
    wanted = [a for a in assignments if a.id in checkpoints]
    if not wanted or not learner_ids:
        return {}
    ids = [a.id for a in wanted]
    extended = {
        (e.user_id, e.assignment_id, e.kind): _aware(e.due_at, now)
        for e in db.session.scalars(
            select(CheckpointExtension).where(
                CheckpointExtension.assignment_id.in_(ids), learner_filter(CheckpointExtension.user_id)
            )
        )
    }
    first_answers: dict[tuple[int, int], dict[int, datetime]] = {}
    for user_id, assignment_id, question_id, at in db.session.execute(
        select(Answer.user_id, Assignment.id, Answer.study_question_id, func.min(Answer.created_at))
        .join(StudyGroup, StudyGroup.id == Answer.group_id)
        .join(StudyQuestion, StudyQuestion.id == Answer.study_question_id)
        .join(
            Assignment,
            (Assignment.course_id == StudyGroup.course_id)
            & (Assignment.episode_id == StudyQuestion.episode_id),
        )
        .where(Answer.deleted_at.is_(None), Assignment.id.in_(ids), learner_filter(Answer.user_id))
        .group_by(Answer.user_id, Assignment.id, Answer.study_question_id)
    ):
        first_answers.setdefault((user_id, assignment_id), {})[question_id] = _aware(at, now)
    # Replies to peers (not under one's own answer), oldest first.
    answer = aliased(Answer)
    question_episode = func.coalesce(StudyQuestion.episode_id, GroupQuestion.episode_id)
    reply_times: dict[tuple[int, int], list[datetime]] = {}
    for user_id, assignment_id, at in db.session.execute(
        select(Reply.user_id, Assignment.id, Reply.created_at)
        .join(answer, answer.id == Reply.answer_id)
        .join(StudyGroup, StudyGroup.id == answer.group_id)
        .outerjoin(StudyQuestion, StudyQuestion.id == answer.study_question_id)
        .outerjoin(GroupQuestion, GroupQuestion.id == answer.group_question_id)
        .join(
            Assignment,
            (Assignment.course_id == StudyGroup.course_id)
            & (Assignment.episode_id == question_episode),
        )
        .where(
            Reply.deleted_at.is_(None),
            answer.user_id != Reply.user_id,
            Assignment.id.in_(ids),
            learner_filter(Reply.user_id),
        )
        .order_by(Reply.created_at)
    ):
        reply_times.setdefault((user_id, assignment_id), []).append(_aware(at, now))

    states: dict[tuple[int, int], list[State]] = {}
    for assignment in wanted:
        checkpoint = checkpoints[assignment.id]
        required_ids = required_question_ids(assignment)
        for user_id in learner_ids:
            mine = []
            if checkpoint.answers_due_at is not None:
                answered = first_answers.get((user_id, assignment.id), {})
                times = [answered[q] for q in required_ids if q in answered]
                due = extended.get((user_id, assignment.id, "answers"))
                mine.append(State(
                    "answers", due or _aware(checkpoint.answers_due_at, now), due is not None,
                    len(required_ids), len(times),
                    max(times) if times and len(times) == len(required_ids) else None, now,
                ))
            if checkpoint.replies_due_at is not None and checkpoint.replies_required:
                times = reply_times.get((user_id, assignment.id), [])
                need = checkpoint.replies_required
                due = extended.get((user_id, assignment.id, "replies"))
                mine.append(State(
                    "replies", due or _aware(checkpoint.replies_due_at, now), due is not None,
                    need, min(len(times), need), times[need - 1] if len(times) >= need else None,
                    now,
                ))
            if mine:
                states[(user_id, assignment.id)] = mine
    return states


# --- Setting checkpoints and their extensions --------------------------------------------


def _require_manager(actor, assignment: Assignment) -> None:
    if not policy.can_manage_course(actor, assignment.course):
        raise Forbidden(_("Only the course's educators can change its checkpoints."))


def save_checkpoints(assignment: Assignment, *, answers_due, replies_required, replies_due,
                     actor=None):
    """Set (or clear, with no dates) the assignment's checkpoints; times are wall-clock
    times in the course's zone.

    :raise DomainError: a replies checkpoint without its number or date, or one not later
      than the answers checkpoint.
    """
    if actor is not None:
        _require_manager(actor, assignment)
    zone_name = assignment.course.time_zone
    answers_at = to_utc(answers_due, zone_name, "answers_due") if answers_due else None
    replies_at = to_utc(replies_due, zone_name, "replies_due") if replies_due else None
    replies_required = replies_required or 0
    if replies_required < 0 or replies_required > MAX_REPLIES:
        raise DomainError(_("Ask for 0 to %(max)s replies.", max=MAX_REPLIES),
                          field="replies_required")
    if replies_at and not replies_required:
        raise DomainError(_("Say how many replies to peers are due by that date."),
                          field="replies_required")
    if replies_required and not replies_at:
        raise DomainError(_("Enter the date the replies are due."), field="replies_due")
    if answers_at and replies_at and replies_at <= answers_at:
        raise DomainError(_("The replies are due after the answers: choose a later date."),
                          field="replies_due")
    checkpoint = db.session.get(Checkpoint, assignment.id)
    if answers_at is None and replies_at is None:
        if checkpoint is not None:
            db.session.delete(checkpoint)
    else:
        if checkpoint is None:
            checkpoint = Checkpoint(assignment_id=assignment.id)
            db.session.add(checkpoint)
        checkpoint.answers_due_at = answers_at
        checkpoint.replies_due_at = replies_at
        checkpoint.replies_required = replies_required if replies_at else 0
        checkpoint.updated_at = now_utc()
    # The calendar apps see the change through the assignment's SEQUENCE.
    assignment.revision += 1
    assignment.updated_at = now_utc()
    if actor is not None:
        audit.record(
            actor, "course.checkpoints_set", target=assignment,
            details={"code": assignment.course.code,
                     "answers_due_at": answers_at.isoformat() if answers_at else None,
                     "replies_required": replies_required if replies_at else 0,
                     "replies_due_at": replies_at.isoformat() if replies_at else None},
        )
    db.session.commit()
    return checkpoint if answers_at or replies_at else None


def checkpoint_extensions(assignment: Assignment) -> list[CheckpointExtension]:
    return list(
        db.session.scalars(
            select(CheckpointExtension)
            .where(CheckpointExtension.assignment_id == assignment.id)
            .order_by(CheckpointExtension.kind, CheckpointExtension.due_at)
        )
    )


def grant_extension(actor, assignment: Assignment, learner_ids: set[int], user_id, kind, due_at):
    """A later date for one learner on one checkpoint.

    :raise DomainError: no such learner or checkpoint, or the date is not later.
    """
    _require_manager(actor, assignment)
    checkpoint = db.session.get(Checkpoint, assignment.id)
    if user_id not in learner_ids:
        raise DomainError(_("Choose a learner of this course."), field="user_id")
    due_for = {
        "answers": checkpoint.answers_due_at if checkpoint else None,
        "replies": checkpoint.replies_due_at if checkpoint else None,
    }
    if kind not in KINDS or due_for[kind] is None:
        raise DomainError(_("Choose a checkpoint this assignment has."), field="kind")
    if due_at is None:
        raise DomainError(_("Enter the new due date and time."), field="due_at")
    due = to_utc(due_at, assignment.course.time_zone, "due_at")
    if due <= due_for[kind]:
        raise DomainError(
            _("An extension must be later than the checkpoint's date, %(due)s.",
              due=format_in_zone(due_for[kind], getattr(actor, "time_zone", None))),
            field="due_at",
        )
    extension = db.session.scalar(
        select(CheckpointExtension).where(
            CheckpointExtension.assignment_id == assignment.id,
            CheckpointExtension.user_id == user_id,
            CheckpointExtension.kind == kind,
        )
    )
    if extension is None:
        extension = CheckpointExtension(assignment_id=assignment.id, user_id=user_id, kind=kind)
        db.session.add(extension)
    extension.due_at = due
    extension.granted_by_id = actor.id
    extension.created_at = now_utc()
    audit.record(
        actor, "course.checkpoint_extension_granted", subject=db.session.get(User, user_id),
        target=assignment,
        details={"code": assignment.course.code, "checkpoint": kind, "due_at": due.isoformat()},
    )
    db.session.commit()
    return extension


def remove_extension(actor, assignment: Assignment, extension_id: int) -> None:
    _require_manager(actor, assignment)
    extension = db.session.scalar(
        select(CheckpointExtension).where(
            CheckpointExtension.id == extension_id,
            CheckpointExtension.assignment_id == assignment.id,
        )
    )
    if extension is None:
        raise NotFound(_("There is no such extension."))
    audit.record(
        actor, "course.checkpoint_extension_removed", subject=extension.user, target=assignment,
        details={"code": assignment.course.code, "checkpoint": extension.kind},
    )
    db.session.delete(extension)
    db.session.commit()
