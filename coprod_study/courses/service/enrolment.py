"""Joining a course: the enrolment code, educators and learners added by e-mail, invitations."""

import re
import secrets
from dataclasses import dataclass, field

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit, policy, throttle
from coprod_study.account.service import normalize_email
from coprod_study.courses.service.clock import now_utc
from coprod_study.courses.service.courses import MAX_EMAILS, _require_manager, course_path
from coprod_study.courses.service.roster import _membership
from coprod_study.errors import Conflict, DomainError, NotFound, RateLimited
from coprod_study.extensions import db
from coprod_study.models import (
    Course,
    CourseInvite,
    CourseMember,
    User,
)
from coprod_study.notifications import service as notifications

ENROL_FAILURE_LIMIT = "10/minute"


class AlreadyEnrolled(Conflict):
    """The person is in the course already: nothing to correct, so views say so as a notice."""

    def __init__(self, message: str, course: Course):
        super().__init__(message, "code")
        self.course = course


def enrol(user, code: str) -> Course:
    """Enrol as a learner with the course's enrol code.

    :raise AlreadyEnrolled: already a learner of the course (or one of its educators).
    """
    key = f"enrol:{user.id}"
    wait = throttle.retry_after(ENROL_FAILURE_LIMIT, key)
    if wait:
        raise RateLimited(_("Too many wrong codes. Try again in %(wait)s seconds.", wait=wait), wait)
    code = "".join((code or "").split()).upper()
    course = None
    if code and len(code) <= 32:
        course = db.session.scalar(select(Course).where(Course.enrol_code == code))
    if course is None:
        throttle.hit(ENROL_FAILURE_LIMIT, key)
        raise DomainError(
            _("No course has this enrol code. Check it with your educator; codes can be reset."),
            field="code",
        )
    existing = _membership(course, user.id)
    if existing is not None:
        if existing.role == "educator":
            raise AlreadyEnrolled(_("You teach %(title)s; educators do not enrol.", title=course.title), course)
        raise AlreadyEnrolled(_("You are already enrolled in %(title)s.", title=course.title), course)
    db.session.add(CourseMember(course_id=course.id, user_id=user.id, role="learner"))
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise AlreadyEnrolled(
            _("You are already enrolled in %(title)s.", title=course.title), course
        ) from error
    policy.forget_memberships()
    return course


def add_educator(actor, course: Course, email: str) -> User:
    _require_manager(actor, course)
    address = normalize_email(email)
    person = db.session.scalar(select(User).where(User.email == address))
    if person is None:
        raise DomainError(
            _("No account uses this address. Ask them to register first, then add them."),
            field="email",
        )
    row = _membership(course, person.id)
    if row is not None and row.role == "educator":
        raise Conflict(_("%(display_name)s already teaches this course.", display_name=person.display_name), "email")
    if row is None:
        db.session.add(CourseMember(course_id=course.id, user_id=person.id, role="educator"))
    else:
        row.role = "educator"
    audit.record(actor, "course.educator_added", subject=person, target=course,
                 details={"code": course.code})
    notifications.notify(
        [person.id],
        "course",
        _l("You are now an educator of %(course)s.", course=course.title),
        course_path(course),
    )
    db.session.commit()
    policy.forget_memberships()
    return person


def parse_emails(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or lines; normalized, unique."""
    raw = [part for part in re.split(r"[\s,;]+", text or "") if part]
    if not raw:
        raise DomainError(_("Enter at least one e-mail address."), field="emails")
    if len(raw) > MAX_EMAILS:
        raise DomainError(_("Add at most %(max)s addresses at a time.", max=MAX_EMAILS), field="emails")
    found: list[str] = []
    for part in raw:
        try:
            address = normalize_email(part)
        except DomainError as error:
            raise DomainError(
                _("“%(part)s” is not a valid e-mail address; nothing was added.", part=part[:100]),
                field="emails",
            ) from error
        if address not in found:
            found.append(address)
    return found


@dataclass
class AddResult:
    added: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)


def add_learners(actor, course: Course, emails_text: str) -> AddResult:
    """Enrol registered people by address; invite the others by e-mail. One transaction."""
    _require_manager(actor, course)
    addresses = parse_emails(emails_text)
    people = {
        u.email: u for u in db.session.scalars(select(User).where(User.email.in_(addresses)))
    }
    roles = dict(
        db.session.execute(
            select(CourseMember.user_id, CourseMember.role).where(
                CourseMember.course_id == course.id,
                CourseMember.user_id.in_([u.id for u in people.values()]),
            )
        ).all()
    )
    invites = {
        i.email: i
        for i in db.session.scalars(
            select(CourseInvite).where(
                CourseInvite.course_id == course.id, CourseInvite.email.in_(addresses)
            )
        )
    }
    result = AddResult()
    to_mail: list[CourseInvite] = []
    for address in addresses:
        person = people.get(address)
        if person is not None:
            if person.id in roles:
                result.already.append(person)
                continue
            db.session.add(CourseMember(course_id=course.id, user_id=person.id, role="learner"))
            result.added.append(person)
            continue
        invite = invites.get(address)
        if invite is None or invite.accepted_at is not None:
            if invite is not None:
                db.session.delete(invite)
                db.session.flush()
            invite = CourseInvite(
                course_id=course.id,
                email=address,
                token=secrets.token_urlsafe(32),
                invited_by_id=actor.id,
            )
            db.session.add(invite)
        to_mail.append(invite)
        result.invited.append(address)
    if result.added:
        notifications.notify(
            [u.id for u in result.added],
            "course",
            _l("%(name)s enrolled you in %(course)s.", name=actor.display_name, course=course.title),
            course_path(course),
        )
    audit.record(
        actor,
        "course.learners_added",
        target=course,
        details={
            "code": course.code,
            "added": [u.id for u in result.added],
            "invited": len(result.invited),
        },
    )
    try:
        for invite in to_mail:
            # In the same transaction: the invitation and its mail stand or fall together.
            _queue_invite(actor, course, invite)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("Someone changed this course at the same moment; try again.")) from error
    policy.forget_memberships()
    return result


def _queue_invite(actor, course: Course, invite: CourseInvite) -> None:
    from coprod_study.mail.outgoing import queue_mail

    link = current_app.config["BASE_URL"].rstrip("/") + f"/courses/invite/{invite.token}"
    text = render_template(
        "email/course_invite.txt",
        course=course,
        inviter=actor,
        link=link,
        site_name=current_app.config["SITE_NAME"],
    )
    queue_mail(
        invite.email, _("You are invited to %(course)s", course=course.title), text,
        kind="course_invite",
    )


def pending_invites(course: Course) -> list[CourseInvite]:
    return list(
        db.session.scalars(
            select(CourseInvite)
            .where(CourseInvite.course_id == course.id, CourseInvite.accepted_at.is_(None))
            .order_by(CourseInvite.email)
        )
    )


def invite_for_token(token: str) -> CourseInvite | None:
    if not token or len(token) > 64:
        return None
    invite = db.session.scalar(select(CourseInvite).where(CourseInvite.token == token))
    if invite is None or invite.accepted_at is not None:
        return None
    return invite


def accept_invite(user, token: str) -> Course:
    invite = invite_for_token(token)
    if invite is None:
        raise NotFound(_("This invitation was already used or is not valid."))
    course = invite.course
    if _membership(course, user.id) is None:
        db.session.add(CourseMember(course_id=course.id, user_id=user.id, role="learner"))
    invite.accepted_at = now_utc()
    invite.accepted_by_id = user.id
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("You are already in this course.")) from error
    policy.forget_memberships()
    return course
