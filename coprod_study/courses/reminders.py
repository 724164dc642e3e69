"""Reminders 48 hours before a due date: once per assignment per learner, in-app and by e-mail."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from coprod_study.courses.progress import assignments_where, compute_cells
from coprod_study.courses.service import course_path, format_in_zone, now_utc
from coprod_study.extensions import db
from coprod_study.i18n import language_of
from coprod_study.models import (
    Assignment,
    CourseMember,
    Extension,
    Notification,
    ReminderSent,
    User,
)
from coprod_study.notifications import service as notifications

REMIND_BEFORE = timedelta(hours=48)


@dataclass
class ReminderResult:
    notified: int = 0
    emailed: int = 0  # mails written to the outbox


def send_reminders(now: datetime | None = None) -> ReminderResult:
    """Remind every learner whose (possibly extended) due date is within 48 hours and
    who has not finished. A ReminderSent row per learner and assignment, written in
    the same transaction as the notifications, makes a second run send nothing."""
    now = now or now_utc()
    horizon = now + REMIND_BEFORE
    extended_soon = select(Extension.assignment_id).where(
        Extension.due_at > now, Extension.due_at <= horizon
    )
    candidate = (Assignment.opens_at <= now) & or_(
        (Assignment.due_at > now) & (Assignment.due_at <= horizon),
        Assignment.id.in_(extended_soon),
    )
    assignment_list = assignments_where(candidate)
    if not assignment_list:
        return ReminderResult()
    course_ids = {a.course_id for a in assignment_list}
    learners_by_course: dict[int, set[int]] = defaultdict(set)
    for course_id, user_id in db.session.execute(
        select(CourseMember.course_id, CourseMember.user_id).where(
            CourseMember.course_id.in_(course_ids), CourseMember.role == "learner"
        )
    ):
        learners_by_course[course_id].add(user_id)
    all_learners = sorted(set().union(*learners_by_course.values()))
    learners = select(CourseMember.user_id).where(
        CourseMember.course_id.in_(course_ids), CourseMember.role == "learner"
    )
    cells = compute_cells(
        assignment_list,
        all_learners,
        lambda column: column.in_(learners),
        candidate,
        now,
        learners_by_course,
    )
    already = set(
        db.session.execute(
            select(ReminderSent.user_id, ReminderSent.assignment_id).where(
                ReminderSent.assignment_id.in_([a.id for a in assignment_list])
            )
        ).all()
    )
    due = [
        cell
        for key, cell in cells.items()
        if key not in already and now < cell.due_at <= horizon and not cell.complete
    ]
    if not due:
        return ReminderResult()
    people = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_({c.user_id for c in due})))
    }
    db.session.execute(
        insert(ReminderSent),
        [
            {"assignment_id": c.assignment.id, "user_id": c.user_id, "sent_at": now}
            for c in due
        ],
    )
    # One message per assignment, due time and time zone: each person reads the
    # time in their own zone.
    batches: dict[tuple[int, datetime, str], list[int]] = defaultdict(list)
    for cell in due:
        batches[(cell.assignment.id, cell.due_at, people[cell.user_id].time_zone)].append(
            cell.user_id
        )
    by_id = {a.id: a for a in assignment_list}
    for (assignment_id, due_at, zone_name), user_ids in batches.items():
        notifications.notify(
            user_ids,
            "assignment_due",
            _message(by_id[assignment_id], due_at, zone_name),
            course_path(by_id[assignment_id].course),
            target_type="assignment",
            target_id=assignment_id,
        )
    # Those who want e-mail at once get it from here, so the digest must not repeat it.
    immediate = [uid for uid, person in people.items() if person.email_preference == "immediately"]
    if immediate:
        db.session.execute(
            update(Notification)
            .where(
                Notification.user_id.in_(immediate),
                Notification.kind == "assignment_due",
                Notification.target_type == "assignment",
                Notification.target_id.in_(list(by_id)),
                Notification.emailed_at.is_(None),
            )
            .values(emailed_at=now)
        )
    result = ReminderResult(notified=len(due))
    for cell in due:
        person = people[cell.user_id]
        if person.email_preference == "immediately":
            # In the claim's transaction: the reminder and its mail stand or fall together.
            _queue_mail(person, cell)
            result.emailed += 1
    try:
        db.session.commit()
    except IntegrityError:
        # Another run got there first; it sends the reminders.
        db.session.rollback()
        return ReminderResult()
    return result


def _message(assignment: Assignment, due_at: datetime, zone_name: str) -> LazyString:
    """Lazy, so each person reads it in their own language (see notifications.notify)."""
    episode = assignment.episode
    return _l(
        "Due %(due)s: episode %(number)s, %(title)s (%(course)s).",
        due=LazyString(format_in_zone, due_at, zone_name),
        number=episode.number,
        title=episode.title,
        course=assignment.course.title,
    )


def _queue_mail(person: User, cell) -> None:
    from coprod_study.mail.outgoing import queue_mail

    assignment = cell.assignment
    link = current_app.config["BASE_URL"].rstrip("/") + course_path(assignment.course)
    with force_locale(language_of(person)):
        text = render_template(
            "email/assignment_reminder.txt",
            person=person,
            assignment=assignment,
            cell=cell,
            due=format_in_zone(cell.due_at, person.time_zone),
            link=link,
            site_name=current_app.config["SITE_NAME"],
        )
        subject = gettext(
            "Due soon: episode %(number)s (%(code)s)",
            number=assignment.episode.number,
            code=assignment.course.code,
        )
    queue_mail(person.email, subject, text, kind="reminder")
