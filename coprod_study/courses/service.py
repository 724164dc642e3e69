"""Courses: enrolment, course groups, assignments, extensions and invitations."""

import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from coprod_study import audit, policy, throttle
from coprod_study.account.service import normalize_email, resolve_time_zone, valid_time_zone
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited
from coprod_study.extensions import db
from coprod_study.groups.service import check_markdown, question_episode_id
from coprod_study.groups.service import create_group as _create_group
from coprod_study.i18n import DEFAULT_LANGUAGE
from coprod_study.markup import render_markdown
from coprod_study.models import (
    PLACEMENTS,
    Assignment,
    Course,
    CourseInvite,
    CourseMember,
    Episode,
    Extension,
    Membership,
    StudyGroup,
    User,
)
from coprod_study.notifications import service as notifications

MAX_TITLE = 200
MAX_TERM = 80
MAX_CODE = 40
MAX_EMAILS = 200
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{1,39}$")
# Paths under /courses/ that are not courses (codes are upper-cased, paths are not,
# but a look-up ignores case, so keep these free).
RESERVED_CODES = {"NEW", "ENROL", "INVITE", "CALENDAR", "CALENDAR.ICS"}
# No 0/O or 1/I: the code is read aloud and typed from a slide.
ENROL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ENROL_LENGTH = 8
ENROL_FAILURE_LIMIT = "10/minute"


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- Time -----------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def to_utc(local: datetime, zone_name: str, field_name: str) -> datetime:
    """A wall-clock time in `zone_name` as an aware UTC datetime.

    :raise DomainError: for a time the clocks skip when summer time starts.
    """
    local = local.replace(second=0, microsecond=0, tzinfo=None)
    place = zone(zone_name)
    # fold=0: in the repeated hour when clocks go back, the first one is meant.
    moment = local.replace(tzinfo=place, fold=0).astimezone(UTC)
    if moment.astimezone(place).replace(tzinfo=None) != local:
        raise DomainError(
            _(
                "%(time)s does not exist in %(zone)s: the clocks skip that hour when summer "
                "time starts. Choose another time.",
                time=local.strftime("%Y-%m-%d %H:%M"),
                zone=place.key,
            ),
            field=field_name,
        )
    return moment


def to_local(value: datetime, zone_name: str) -> datetime:
    """A UTC datetime as naive wall-clock time in `zone_name` (to fill a form)."""
    return value.astimezone(zone(zone_name)).replace(tzinfo=None)


def format_in_zone(value: datetime | None, zone_name: str | None) -> str:
    """e.g. "Mon 30 Mar 2026, 17:00 CEST (Europe/Stockholm)": the zone always named,
    the day and month in the reader's language ("mån 30 mars 2026, 17:00 CEST ...")."""
    if value is None:
        return ""
    place = zone(zone_name)
    local = value.astimezone(place)
    abbreviation = local.tzname() or ""
    locale = get_locale() or DEFAULT_LANGUAGE
    when = format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=place, locale=locale)
    text = f"{when} {abbreviation}".rstrip()
    if abbreviation != place.key:
        text += f" ({place.key})"
    return text


@dataclass(frozen=True)
class DueItem:
    """An unfinished assignment as the e-mail digest lists it."""

    title: str
    due_text: str
    url: str


def due_within(user, days: int = 7, now: datetime | None = None) -> list[DueItem]:
    """The person's unfinished assignments due in the next `days` days."""
    from coprod_study.courses import progress

    now = now or now_utc()
    items = []
    for cell in progress.my_cells(user, now=now):
        if cell.complete or not now < cell.due_at <= now + timedelta(days=days):
            continue
        episode, course = cell.assignment.episode, cell.assignment.course
        items.append(
            DueItem(
                title=_(
                    "Episode %(number)s: %(title)s (%(code)s)",
                    number=episode.number,
                    title=episode.title,
                    code=course.code,
                ),
                due_text=_(
                    "due %(due)s; %(left)s",
                    due=format_in_zone(cell.due_at, user.time_zone),
                    left=cell.left,
                ),
                url=course_path(course),
            )
        )
    return items


# --- Looking courses up -------------------------------------------------------------


def course_path(course: Course) -> str:
    # Codes are [A-Z0-9_-] only, so the path needs no quoting; built by hand
    # because reminders run from the command line, outside any request.
    return f"/courses/{course.code}"


def get_course(code: str, viewer=None) -> Course:
    """The course with this code; with a signed-in `viewer`, their role comes in the same query.

    :raise NotFound: when no course has this code.
    """
    code = (code or "").strip().upper()
    row = None
    if code:
        viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
        row = db.session.execute(
            select(Course, CourseMember.role)
            .outerjoin(
                CourseMember,
                (CourseMember.course_id == Course.id) & (CourseMember.user_id == viewer_id),
            )
            .where(Course.code == code)
        ).first()
    if row is None:
        raise NotFound(_("There is no such course."))
    course, role = row
    if viewer_id is not None:
        policy.remember_course_role(viewer, course, role)
    return course


def my_courses(user) -> list[tuple[Course, str]]:
    if not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.execute(
        select(Course, CourseMember.role)
        .join(CourseMember, CourseMember.course_id == Course.id)
        .where(CourseMember.user_id == user.id)
        .order_by(Course.title, Course.id)
    )
    return [(course, role) for course, role in rows]


def all_courses_stmt():
    return select(Course).order_by(Course.title, Course.id)


def members(course: Course, role: str) -> list[CourseMember]:
    return members_by_role(course).get(role, [])


def members_by_role(course: Course) -> dict[str, list[CourseMember]]:
    """The course's learners and educators with their accounts, by role, in one query."""
    by_role: dict[str, list[CourseMember]] = {}
    rows = db.session.scalars(
        select(CourseMember)
        .join(CourseMember.user)
        .options(contains_eager(CourseMember.user))
        .where(CourseMember.course_id == course.id)
        .order_by(func.lower(User.display_name), User.id)
    )
    for member in rows:
        by_role.setdefault(member.role, []).append(member)
    return by_role


def group_educators(group) -> list[User]:
    """The educators of a course's group's course (they facilitate it without being
    members); none for a group outside a course."""
    if group.course_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .join(CourseMember, CourseMember.user_id == User.id)
            .where(CourseMember.course_id == group.course_id, CourseMember.role == "educator")
            .order_by(func.lower(User.display_name), User.id)
        )
    )


def learner_ids_stmt(course_id):
    """The learners of a course (or of several, given a select of course ids)."""
    if isinstance(course_id, int):
        where = CourseMember.course_id == course_id
    else:
        where = CourseMember.course_id.in_(course_id)
    return select(CourseMember.user_id).where(where, CourseMember.role == "learner")


def course_groups(course: Course) -> list[StudyGroup]:
    return list(
        db.session.scalars(
            select(StudyGroup).where(StudyGroup.course_id == course.id).order_by(StudyGroup.name)
        )
    )


def placements(course: Course) -> list[tuple[int, StudyGroup]]:
    """(person id, group) for every active membership of the course's groups, one query."""
    return [
        (user_id, group)
        for user_id, group in db.session.execute(
            select(Membership.user_id, StudyGroup)
            .join(StudyGroup, StudyGroup.id == Membership.group_id)
            .where(StudyGroup.course_id == course.id, Membership.status == "active")
            .order_by(StudyGroup.name, StudyGroup.id)
        )
    ]


def learner_groups(course: Course, rows=None) -> dict[int, StudyGroup]:
    """Each placed learner's group in this course (from `placements`)."""
    placed: dict[int, StudyGroup] = {}
    for user_id, group in placements(course) if rows is None else rows:
        placed.setdefault(user_id, group)
    return placed


def group_counts(rows, learners) -> dict[int, int]:
    """Learners per group, from `placements` rows and the course's learner members."""
    learner_ids = {member.user_id for member in learners}
    counts: dict[int, int] = {}
    for user_id, group in rows:
        if user_id in learner_ids:
            counts[group.id] = counts.get(group.id, 0) + 1
    return counts


# --- Creating and changing courses ------------------------------------------------


def clean_code(code: str) -> str:
    code = (code or "").strip().upper()
    if not code:
        raise DomainError(_("Give the course a code, such as COPROD-101."), field="code")
    if len(code) > MAX_CODE:
        raise DomainError(_("Use at most %(max)s characters for the code.", max=MAX_CODE), field="code")
    if code in RESERVED_CODES:
        raise DomainError(
            _(
                "“%(code)s” is reserved: it is already part of the site's own addresses "
                "under /courses/. Choose another code.",
                code=code.lower(),
            ),
            field="code",
        )
    if not CODE_PATTERN.match(code):
        raise DomainError(
            _(
                "Use letters, digits, hyphens and underscores only (at least two characters); "
                "the code is part of the course's web address."
            ),
            field="code",
        )
    return code


def _clean_text(value: str, field_name: str, limit: int, required_message: str | None) -> str:
    value = " ".join((value or "").split())
    if required_message and not value:
        raise DomainError(required_message, field=field_name)
    if len(value) > limit:
        raise DomainError(_("Use at most %(limit)s characters.", limit=limit), field=field_name)
    return value


def _check_zone(time_zone: str) -> str:
    time_zone = resolve_time_zone(time_zone) or (time_zone or "").strip()
    if not valid_time_zone(time_zone):
        raise DomainError(
            _("Enter a time zone by its IANA name, such as Europe/Stockholm."), field="time_zone"
        )
    return time_zone


def _check_placement(placement: str) -> str:
    if placement not in PLACEMENTS:
        raise DomainError(_("Choose how learners are placed in groups."), field="placement")
    return placement


def new_enrol_code() -> str:
    return "".join(secrets.choice(ENROL_ALPHABET) for _ in range(ENROL_LENGTH))


def create_course(
    user,
    *,
    title: str,
    code: str,
    term: str = "",
    time_zone: str = "UTC",
    description: str = "",
    placement: str = "educator",
) -> Course:
    if not policy.can_create_course(user):
        raise Forbidden(_("Only educators and admins may create courses."))
    title = _clean_text(title, "title", MAX_TITLE, _("Give the course a title."))
    code = clean_code(code)
    term = _clean_text(term, "term", MAX_TERM, None)
    time_zone = _check_zone(time_zone)
    description = check_markdown(description, "description")
    placement = _check_placement(placement)
    if db.session.scalar(select(Course.id).where(Course.code == code)):
        raise Conflict(_("The code %(code)s is taken by another course; choose another.", code=code), "code")
    course = Course(
        code=code,
        title=title,
        term=term,
        time_zone=time_zone,
        description=description,
        description_html=str(render_markdown(description)),
        enrol_code=new_enrol_code(),
        placement=placement,
        created_by_id=user.id,
    )
    db.session.add(course)
    db.session.flush()
    db.session.add(CourseMember(course_id=course.id, user_id=user.id, role="educator"))
    audit.record(user, "course.created", target=course, details={"code": code})
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(
            _("The code %(code)s was just taken by another course; choose another.", code=code), "code"
        ) from error
    policy.forget_memberships()
    return course


def update_course(
    actor, course: Course, *, title: str, term: str, time_zone: str, description: str,
    placement: str,
) -> None:
    _require_manager(actor, course)
    values = {
        "title": _clean_text(title, "title", MAX_TITLE, _("Give the course a title.")),
        "term": _clean_text(term, "term", MAX_TERM, None),
        "time_zone": _check_zone(time_zone),
        "description": check_markdown(description, "description"),
        "placement": _check_placement(placement),
    }
    for name, value in values.items():
        setattr(course, name, value)
    course.description_html = str(render_markdown(course.description))
    db.session.commit()


def _require_manager(actor, course: Course) -> None:
    if not policy.can_manage_course(actor, course):
        raise Forbidden(_("Only the course's educators may do this."))


def reset_enrol_code(actor, course: Course) -> str:
    _require_manager(actor, course)
    course.enrol_code = new_enrol_code()
    audit.record(actor, "course.enrol_code_reset", target=course, details={"code": course.code})
    db.session.commit()
    return course.enrol_code


def _membership(course: Course, user_id: int) -> CourseMember | None:
    return db.session.scalar(
        select(CourseMember).where(
            CourseMember.course_id == course.id, CourseMember.user_id == user_id
        )
    )


def _learner_row(course: Course, user_id: int) -> CourseMember:
    """:raise NotFound: the person is not a learner of the course."""
    row = _membership(course, user_id)
    if row is None or row.role != "learner":
        raise NotFound(_("This person is not a learner of the course."))
    return row


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


# --- Course groups and placement ------------------------------------------------


def create_course_group(actor, course: Course, *, name: str, post_first: bool = True):
    _require_manager(actor, course)
    # Invite only: a course group is found through its course, not the group list.
    return _create_group(
        actor,
        name=name,
        # Stored text, in the language of the educator who makes the group.
        description=_("A study group of the course %(course)s.", course=course.title),
        join_policy="invite",
        post_first=post_first,
        course=course,
    )


def set_placement(actor, course: Course, placement: str) -> None:
    _require_manager(actor, course)
    course.placement = _check_placement(placement)
    db.session.commit()


def _course_group(course: Course, group_id: int) -> StudyGroup:
    group = db.session.get(StudyGroup, group_id) if group_id else None
    if group is None or group.course_id != course.id:
        raise DomainError(_("Choose one of this course's groups."), field="group_id")
    return group


def _move(course: Course, user_id: int, group: StudyGroup | None) -> None:
    """Take the learner out of the course's other groups and into `group` (or none)."""
    others = select(StudyGroup.id).where(StudyGroup.course_id == course.id)
    if group is not None:
        others = others.where(StudyGroup.id != group.id)
    db.session.execute(
        delete(Membership).where(
            Membership.user_id == user_id,
            Membership.group_id.in_(others),
            Membership.status.in_(["active", "pending"]),
        )
    )
    if group is None:
        return
    row = db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user_id)
    )
    if row is None:
        db.session.add(
            Membership(group_id=group.id, user_id=user_id, role="member", status="active")
        )
    elif row.status != "active":
        row.status, row.role = "active", "member"


def place_learner(actor, course: Course, user_id: int, group_id: int | None) -> StudyGroup | None:
    """An educator puts a learner in a group, moves them, or (group 0) takes them out."""
    _require_manager(actor, course)
    row = _learner_row(course, user_id)
    group = _course_group(course, group_id) if group_id else None
    _move(course, user_id, group)
    audit.record(
        actor,
        "course.learner_placed",
        subject=row.user,
        target=course,
        details={"code": course.code, "group": group.slug if group else None},
    )
    if group is not None:
        notifications.notify(
            [user_id],
            "course",
            _l(
                "You are in the group %(group)s for %(course)s.",
                group=group.name,
                course=course.title,
            ),
            f"/groups/{group.slug}",
            group=group,
        )
    db.session.commit()
    policy.forget_memberships()
    return group


@dataclass
class Departure:
    """What taking a learner off a course changes, shown before it is done."""

    learner: User
    groups: list[StudyGroup]
    extensions: int


def departure(course: Course, user_id: int) -> Departure:
    """:raise NotFound: the person is not a learner of the course."""
    row = _learner_row(course, user_id)
    groups = list(
        db.session.scalars(
            select(StudyGroup)
            .join(Membership, Membership.group_id == StudyGroup.id)
            .where(
                StudyGroup.course_id == course.id,
                Membership.user_id == user_id,
                Membership.status.in_(["active", "pending"]),
            )
            .order_by(StudyGroup.name)
        )
    )
    extensions = db.session.scalar(
        select(func.count())
        .select_from(Extension)
        .join(Assignment, Assignment.id == Extension.assignment_id)
        .where(Assignment.course_id == course.id, Extension.user_id == user_id)
    )
    return Departure(row.user, groups, extensions)


def remove_learner(actor, course: Course, user_id: int) -> User:
    """A learner leaves the course, or one of its educators takes them off it.

    They leave the course's groups (their answers stay, as when someone leaves a
    group), lose its unread notifications and their extensions, and drop out of the
    progress table. Enrolling again with the code, or being added again, brings them
    back with their answers.

    :raise Forbidden: someone else, not an educator of the course, tries.
    :raise NotFound: the person is not a learner of the course.
    """
    leaving = actor.id == user_id
    if not leaving:
        _require_manager(actor, course)
    row = _learner_row(course, user_id)
    learner = row.user
    course_groups_ids = select(StudyGroup.id).where(StudyGroup.course_id == course.id)
    notifications.withdraw_for_groups(course_groups_ids, user_id)
    _move(course, user_id, None)
    db.session.execute(
        delete(Extension).where(
            Extension.user_id == user_id,
            Extension.assignment_id.in_(
                select(Assignment.id).where(Assignment.course_id == course.id)
            ),
        )
    )
    db.session.delete(row)
    audit.record(
        actor,
        "course.left" if leaving else "course.learner_removed",
        subject=learner,
        target=course,
        details={"code": course.code},
    )
    if not leaving:
        notifications.notify(
            [user_id],
            "course",
            _l("You are no longer a learner of %(course)s.", course=course.title),
            "/courses",
        )
    db.session.commit()
    policy.forget_memberships()  # and the course roles
    return learner


def choose_group(user, course: Course, group_id: int) -> StudyGroup:
    if not policy.can_choose_group(user, course):
        raise Forbidden(_("In this course the educators place learners in groups."))
    group = _course_group(course, group_id)
    _move(course, user.id, group)
    db.session.commit()
    policy.forget_memberships()
    return group


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


# --- Extensions ------------------------------------------------------------------------


def extensions(assignment: Assignment) -> list[Extension]:
    return list(
        db.session.scalars(
            select(Extension)
            .options(selectinload(Extension.user))
            .where(Extension.assignment_id == assignment.id)
            .order_by(Extension.due_at)
        )
    )


def grant_extension(actor, assignment: Assignment, user_id: int | None, due_at) -> Extension:
    """A later due date (wall-clock time in the course's zone) for one learner."""
    course = assignment.course
    _require_manager(actor, course)
    row = _membership(course, user_id) if user_id else None
    if row is None or row.role != "learner":
        raise DomainError(_("Choose a learner of this course."), field="user_id")
    if due_at is None:
        raise DomainError(_("Enter the new due date and time."), field="due_at")
    due = to_utc(due_at, course.time_zone, "due_at")
    if due <= assignment.due_at:
        raise DomainError(
            # In the educator's own zone, like every other time on the page.
            _("An extension must be later than the assignment's due date, %(due)s.", due=format_in_zone(assignment.due_at, getattr(actor, "time_zone", None))),
            field="due_at",
        )
    extension = db.session.scalar(
        select(Extension).where(
            Extension.assignment_id == assignment.id, Extension.user_id == user_id
        )
    )
    if extension is None:
        extension = Extension(assignment_id=assignment.id, user_id=user_id, due_at=due)
        db.session.add(extension)
    extension.due_at = due
    extension.granted_by_id = actor.id
    extension.created_at = now_utc()
    audit.record(
        actor,
        "course.extension_granted",
        subject=row.user,
        target=assignment,
        details={"code": course.code, "due_at": due.isoformat()},
    )
    notifications.notify(
        [user_id],
        "course",
        _l(
            "You have an extension for episode %(number)s in %(course)s.",
            number=assignment.episode.number,
            course=course.title,
        ),
        course_path(course),
    )
    db.session.commit()
    return extension


def remove_extension(actor, assignment: Assignment, user_id: int) -> None:
    _require_manager(actor, assignment.course)
    extension = db.session.scalar(
        select(Extension).where(
            Extension.assignment_id == assignment.id, Extension.user_id == user_id
        )
    )
    if extension is None:
        raise NotFound(_("This learner has no extension for this assignment."))
    db.session.delete(extension)
    audit.record(
        actor,
        "course.extension_removed",
        subject=extension.user,
        target=assignment,
        details={"code": assignment.course.code},
    )
    db.session.commit()


# --- Reveal after the due date ------------------------------------------------------


def revealed_after_due_clause(group, question, viewer=None, now: datetime | None = None):
    """An EXISTS that is true once the group's course opens this question's answers:
    an assignment of its episode asks for it and its due date has passed. For a
    learner with an extension the date is theirs, so a later deadline never comes
    with the others' answers. None for a group outside any course."""
    if getattr(group, "course_id", None) is None:
        return None
    episode_id = question_episode_id(question.study_question_id, question.group_question_id)
    found = select(Assignment.id).where(
        Assignment.course_id == group.course_id,
        Assignment.episode_id == episode_id,
        Assignment.reveal_after_due.is_(True),
    )
    due = Assignment.due_at
    if getattr(viewer, "is_authenticated", False):
        extended, due = _own_due_date(viewer)
        found = found.outerjoin(Extension, extended)
    return found.where(due <= (now or now_utc())).exists()


def _own_due_date(viewer):
    """The join to `viewer`'s extension of an assignment, and their due date: the
    extension's when it is later than the assignment's."""
    extended = (Extension.assignment_id == Assignment.id) & (Extension.user_id == viewer.id)
    due = case((Extension.due_at > Assignment.due_at, Extension.due_at), else_=Assignment.due_at)
    return extended, due


def revealed_after_due_questions(group_ids: list[int], viewer, now: datetime | None = None):
    """The questions of these groups whose answers their course has opened to `viewer`
    by a reveal after the due date (their own extension's date when later), as
    selects of (group id, study question id, group question id) rows for a union."""
    from sqlalchemy import Integer, null

    from coprod_study.models import GroupQuestion, StudyQuestion

    extended, due = _own_due_date(viewer)
    assigned = (Assignment.course_id == StudyGroup.course_id) & Assignment.reveal_after_due.is_(True)
    passed = [StudyGroup.id.in_(group_ids), due <= (now or now_utc())]
    none = null().cast(Integer)
    catalog = (
        select(StudyGroup.id, StudyQuestion.id, none)
        .join(Assignment, assigned)
        .join(StudyQuestion, StudyQuestion.episode_id == Assignment.episode_id)
        .outerjoin(Extension, extended)
        .where(*passed)
    )
    own = (
        select(StudyGroup.id, none, GroupQuestion.id)
        .join(GroupQuestion, GroupQuestion.group_id == StudyGroup.id)
        .join(Assignment, assigned & (Assignment.episode_id == GroupQuestion.episode_id))
        .outerjoin(Extension, extended)
        .where(*passed)
    )
    return [catalog, own]


def revealed_after_due(group, question, now: datetime | None = None, viewer=None) -> bool:
    """Has the course's due date for this question's episode passed (for `viewer`,
    counting their extension), with reveal on?"""
    clause = revealed_after_due_clause(group, question, viewer, now)
    return clause is not None and bool(db.session.scalar(select(clause)))


@dataclass
class GroupAssignment:
    """What a course group's page says about an assigned episode: when it is due for
    the reader (their extension counted) and which question numbers are required."""

    assignment: Assignment
    due_at: datetime
    extended: bool
    required: frozenset[int]

    def is_required(self, number: int) -> bool:
        return number in self.required


def group_assignment(group, episode: Episode, viewer) -> GroupAssignment | None:
    """The course's assignment of `episode`, for a group of that course; else None."""
    if group.course_id is None:
        return None
    assignment = db.session.scalar(
        select(Assignment).where(
            Assignment.course_id == group.course_id, Assignment.episode_id == episode.id
        )
    )
    if assignment is None:
        return None
    due, extended = assignment.due_at, False
    if getattr(viewer, "is_authenticated", False):
        own = db.session.scalar(
            select(Extension).where(
                Extension.assignment_id == assignment.id, Extension.user_id == viewer.id
            )
        )
        if own is not None and own.due_at > due:
            due, extended = own.due_at, True
    count = len(episode.questions)
    numbers = assignment.required_questions or range(1, count + 1)
    return GroupAssignment(assignment, due, extended, frozenset(numbers))
