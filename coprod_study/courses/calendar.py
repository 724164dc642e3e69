"""Calendar feeds of due dates (iCalendar) and the secret tokens that open them."""

import hashlib
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study import policy
from coprod_study.catalog.translations import episode_title
from coprod_study.courses import checkpoint_reports
from coprod_study.courses.service import course_path, now_utc
from coprod_study.errors import NotFound
from coprod_study.extensions import db
from coprod_study.i18n import language_of
from coprod_study.models import Assignment, CalendarToken, Course, CourseMember, Episode, Extension

TOKEN_LIFETIME = timedelta(days=365)
MAX_ACTIVE_TOKENS = 5


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def active_tokens(user) -> list[CalendarToken]:
    return list(
        db.session.scalars(
            select(CalendarToken)
            .where(
                CalendarToken.user_id == user.id,
                CalendarToken.revoked_at.is_(None),
                CalendarToken.expires_at > now_utc(),
            )
            .order_by(CalendarToken.created_at.desc(), CalendarToken.id.desc())
        )
    )


def create_token(user) -> str:
    """A new secret for the person's feeds; returned once, only its hash is kept."""
    from coprod_study.errors import Conflict

    if len(active_tokens(user)) >= MAX_ACTIVE_TOKENS:
        raise Conflict(
            _("You have %(count)s calendar links already; revoke one you no longer use.", count=MAX_ACTIVE_TOKENS)
        )
    raw = secrets.token_urlsafe(32)
    now = now_utc()
    db.session.add(
        CalendarToken(
            user_id=user.id, token_hash=_digest(raw), created_at=now, expires_at=now + TOKEN_LIFETIME
        )
    )
    db.session.commit()
    return raw


def revoke_token(user, token_id: int) -> None:
    token = db.session.get(CalendarToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound(_("There is no such calendar link."))
    token.revoked_at = now_utc()
    db.session.commit()


def user_for_token(raw: str | None):
    """The owner of a live token, else None (unknown, revoked or expired)."""
    if not raw or len(raw) > 100:
        return None
    token = db.session.scalar(
        select(CalendarToken)
        .options(selectinload(CalendarToken.user))
        .where(CalendarToken.token_hash == _digest(raw))
    )
    if token is None or token.revoked_at is not None or token.expires_at <= now_utc():
        return None
    return token.user


def _uid(assignment: Assignment) -> str:
    # The same for an assignment in every feed and at every fetch, so calendar
    # apps update the event instead of adding a copy.
    host = urlsplit(current_app.config["BASE_URL"]).hostname or "coprod-study.local"
    return f"assignment-{assignment.id}@{host}"


def _event(assignment: Assignment, due: datetime, extension_at: datetime | None):
    from icalendar import Event  # loaded where a feed is made, not in every worker

    course = assignment.course
    episode = assignment.episode
    base = current_app.config["BASE_URL"].rstrip("/")
    changed = max(assignment.updated_at, extension_at) if extension_at else assignment.updated_at
    event = Event()
    event.add("uid", _uid(assignment))
    event.add("dtstamp", changed)
    event.add("last-modified", changed)
    event.add("sequence", assignment.revision + (1 if extension_at else 0))
    event.add("dtstart", due)
    event.add("dtend", due)
    event.add(
        "summary",
        _(
            "Due: episode %(number)s, %(title)s (%(code)s)",
            number=episode.number,
            title=episode_title(episode),
            code=course.code,
        ),
    )
    text = _(
        "%(course)s: listen to episode %(number)s and answer its study questions.",
        course=course.title,
        number=episode.number,
    )
    if assignment.instructions:
        text += "\n\n" + assignment.instructions
    event.add("description", text)
    event.add("url", base + course_path(course))
    event.add("transp", "TRANSPARENT")
    return event


def feed(user, course: Course | None = None) -> bytes:
    """The person's due dates (in one course, or in all): extensions for learners,
    written in the person's language (a calendar app sends no useful Accept-Language)."""
    with force_locale(language_of(user)):
        return _feed(user, course)


def _feed(user, course: Course | None) -> bytes:
    roles = select(CourseMember.course_id).where(CourseMember.user_id == user.id)
    stmt = (
        select(Assignment)
        .options(selectinload(Assignment.course), selectinload(Assignment.episode))
        .join(Episode, Episode.id == Assignment.episode_id)
        .order_by(Assignment.due_at, Assignment.id)
    )
    if course is not None:
        if not policy.can_view_course(user, course):
            raise NotFound(_("There is no such course."))
        stmt = stmt.where(Assignment.course_id == course.id)
    else:
        stmt = stmt.where(Assignment.course_id.in_(roles))
    items = list(db.session.scalars(stmt))
    extended = {
        e.assignment_id: e
        for e in db.session.scalars(
            select(Extension).where(
                Extension.user_id == user.id,
                Extension.assignment_id.in_([a.id for a in items]),
            )
        )
    }
    from icalendar import Calendar

    calendar = Calendar()
    calendar.add("prodid", f"-//{current_app.config['SITE_NAME']}//Course due dates//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    name = _("%(code)s: due dates", code=course.code) if course else _("My due dates")
    calendar.add("x-wr-calname", name)
    for assignment in items:
        extension = extended.get(assignment.id)
        due = extension.due_at if extension else assignment.due_at
        calendar.add_component(
            _event(assignment, due, extension.created_at if extension else None)
        )
    for event in checkpoint_reports.calendar_events(user, items):
        calendar.add_component(event)
    return calendar.to_ical()
