"""What an accepted launch does here: the person, the course its LMS course maps to, and where they land."""

import re
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit, policy
from coprod_study.courses import service as course_service
from coprod_study.extensions import db
from coprod_study.lti.service import claims as c
from coprod_study.lti.service import people
from coprod_study.lti.service.launch import Launch, LaunchRefused, spend_nonce
from coprod_study.models import Assignment, Course, Episode, LtiContext, LtiLineItem, User

CODE_CHARACTERS = re.compile(r"[^A-Z0-9]+")


@dataclass
class Arrival:
    user: User
    course: Course
    context: LtiContext
    deep_link: dict | None
    target: str


def _code_for(label: str) -> str:
    stem = CODE_CHARACTERS.sub("-", (label or "").upper()).strip("-")[:28] or "LMS"
    if not stem[0].isalnum():
        stem = "LMS-" + stem
    for _attempt in range(20):
        code = f"{stem}-{secrets.token_hex(3).upper()}"
        if not db.session.scalar(select(Course.id).where(Course.code == code)):
            return code
    raise LaunchRefused(_("Could not find a free course code; try again."))


def _service_urls(context: LtiContext, claims: dict) -> None:
    nrps = claims.get(c.NRPS) if isinstance(claims.get(c.NRPS), dict) else {}
    ags = claims.get(c.AGS) if isinstance(claims.get(c.AGS), dict) else {}
    if nrps.get("context_memberships_url"):
        context.memberships_url = str(nrps["context_memberships_url"])
    if ags.get("lineitems"):
        context.lineitems_url = str(ags["lineitems"])
    if isinstance(ags.get("scope"), list):
        context.ags_scopes = [str(scope) for scope in ags["scope"]]


def _new_course(launch: Launch, user: User) -> Course:
    """The LMS course's first instructor launch makes the course here, with one group
    that learners arriving from the LMS join."""
    claim = launch.context_claim
    title = " ".join(str(claim.get("title") or claim.get("label") or _("Course from the LMS")).split())[:200]
    if not policy.can_create_course(user):
        audit.record(None, "user.role_changed", subject=user, target=user,
                     details={"from": user.role, "to": "educator", "via": "lti"})
        user.role = "educator"
    course = course_service.create_course(
        user, title=title, code=_code_for(str(claim.get("label") or title)), placement="choice",
    )
    course_service.create_course_group(user, course, name=_("%(course)s study group", course=title[:60]))
    return course


def _context(launch: Launch, user: User) -> LtiContext:
    context = launch.context
    if context is None:
        course = _new_course(launch, user)
        context = LtiContext(
            platform_id=launch.platform.id,
            deployment_id=str(launch.claims[c.DEPLOYMENT_ID]),
            context_id=str(launch.context_claim["id"]),
            course_id=course.id,
        )
        db.session.add(context)
    context.title = str(launch.context_claim.get("title") or "")[:255]
    _service_urls(context, launch.claims)
    db.session.commit()
    return context


def _linked_assignment(launch: Launch, course: Course) -> tuple[Assignment | None, int | None]:
    custom = launch.claims.get(c.CUSTOM) if isinstance(launch.claims.get(c.CUSTOM), dict) else {}
    raw = str(custom.get("assignment_id", ""))
    assignment = db.session.get(Assignment, int(raw)) if raw.isdigit() else None
    if assignment is None or assignment.course_id != course.id:
        return None, None
    question = str(custom.get("question", ""))
    return assignment, int(question) if question.isdigit() else None


def remember_line_item(context: LtiContext, assignment: Assignment, url: str | None) -> None:
    if not url:
        return
    row = db.session.scalar(
        select(LtiLineItem).where(
            LtiLineItem.lti_context_id == context.id, LtiLineItem.assignment_id == assignment.id
        )
    )
    if row is None:
        db.session.add(LtiLineItem(lti_context_id=context.id, assignment_id=assignment.id, url=url))
    elif row.url != url:
        row.url = url
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another launch stored it at the same moment


def _target(launch: Launch, user: User, course: Course, context: LtiContext) -> str:
    assignment, question = _linked_assignment(launch, course)
    if assignment is None:
        return course_service.course_path(course)
    ags = launch.claims.get(c.AGS) if isinstance(launch.claims.get(c.AGS), dict) else {}
    remember_line_item(context, assignment, ags.get("lineitem"))
    if launch.role == "educator":
        return f"{course_service.course_path(course)}/progress"
    group = people.learner_group(course, user)
    if group is None:
        return course_service.course_path(course)
    episode = db.session.get(Episode, assignment.episode_id)
    path = f"/groups/{group.slug}/episodes/{episode.slug}"
    return f"{path}/questions/{question}" if question else path


def accept(launch: Launch) -> Arrival:
    """Write what a valid launch brings: the nonce, the person, the course and role.

    :raise LaunchRefused: the same launch was accepted a moment ago (a replay that raced).
    """
    claims = launch.claims
    spend_nonce(launch)
    user = people.person_for(launch.platform, str(claims["sub"]), claims.get("name"), claims.get("email"))
    if user.deleted_at is not None:
        db.session.rollback()
        raise LaunchRefused(_("The account of this LMS user was deleted here."))
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise LaunchRefused(_("This launch has been used already. Open the link in your LMS again.")) from error
    context = _context(launch, user)
    course = db.session.get(Course, context.course_id)
    people.place(course, user, launch.role)
    deep_link = None
    if launch.message_type == c.DEEP_LINKING_REQUEST:
        settings = claims.get(c.DEEP_LINKING_SETTINGS) or {}
        deep_link = {
            "platform_id": launch.platform.id,
            "deployment_id": str(claims[c.DEPLOYMENT_ID]),
            "context_id": context.id,
            "return_url": str(settings.get("deep_link_return_url") or ""),
            "data": settings.get("data"),
        }
        target = "/lti/deep-link"
    else:
        target = _target(launch, user, course, context)
    return Arrival(user, course, context, deep_link, target)
