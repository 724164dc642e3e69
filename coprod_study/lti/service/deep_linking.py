"""Deep linking: an instructor picks an episode (or one of its questions) and a due date; the
tool answers the LMS with a signed LtiDeepLinkingResponse that creates the link there."""

import secrets
import time
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study import policy
from coprod_study.courses import service as course_service
from coprod_study.errors import DomainError, Forbidden
from coprod_study.extensions import db
from coprod_study.lti.service import claims as c
from coprod_study.lti.service import registration
from coprod_study.models import Assignment, Course, Episode, LtiContext, LtiPlatform

RESPONSE_LIFETIME = 300
LINE_ITEM_TAG = "coprod-study"


@dataclass
class Choice:
    context: LtiContext
    course: Course
    platform: LtiPlatform


@dataclass
class Response:
    return_url: str
    jwt: str
    title: str
    platform_name: str


def choice_for(user, settings: dict | None) -> Choice:
    """The deep-link request kept in the session, checked against the person.

    :raise Forbidden: no deep-link launch in this session, or not the course's educator.
    """
    if not settings:
        raise Forbidden(_("Open “Add a link” from your LMS course to choose an episode."))
    context = db.session.get(LtiContext, settings.get("context_id"))
    platform = db.session.get(LtiPlatform, settings.get("platform_id"))
    if context is None or platform is None:
        raise Forbidden(_("This LMS course is no longer linked here."))
    course = db.session.get(Course, context.course_id)
    if not policy.can_manage_course(user, course):
        raise Forbidden(_("Only the course's educators add links."))
    return Choice(context, course, platform)


def episodes() -> list[Episode]:
    return list(
        db.session.scalars(
            select(Episode).options(selectinload(Episode.questions)).order_by(Episode.number)
        )
    )


def _assignment(actor, course: Course, episode_id, due_at) -> Assignment:
    existing = db.session.scalar(
        select(Assignment).where(
            Assignment.course_id == course.id, Assignment.episode_id == episode_id
        )
    ) if isinstance(episode_id, int) else None
    if existing is not None:
        return existing  # linked again (another LMS module): the assignment as it is
    return course_service.create_assignment(
        actor, course, episode_id=episode_id, opens_at=None, due_at=due_at
    )


def _question_number(episode: Episode, raw) -> int | None:
    if raw in (None, "", 0, "0"):
        return None
    if not str(raw).isdigit() or not 1 <= int(raw) <= len(episode.questions):
        raise DomainError(_("Choose one of the episode's study questions, or the whole episode."),
                          field="question")
    return int(raw)


def respond(actor, choice: Choice, settings: dict, *, episode_id, question, due_at) -> Response:
    """Make (or reuse) the assignment and sign the content item for the LMS.

    :raise DomainError: an episode, question or due date that will not do; `field` names it.
    """
    assignment = _assignment(actor, choice.course, episode_id, due_at)
    episode = db.session.get(Episode, assignment.episode_id)
    number = _question_number(episode, question)
    required = len(course_service.required_question_ids(assignment)) or 1
    title = _("Episode %(number)s: %(title)s", number=episode.number, title=episode.title)
    custom = {"assignment_id": str(assignment.id)}
    if number:
        title = _("%(title)s, question %(n)s", title=title, n=number)
        custom["question"] = str(number)
    item = {
        "type": "ltiResourceLink",
        "title": title[:255],
        "url": registration.tool_urls()["launch"],
        "custom": custom,
        "lineItem": {
            "scoreMaximum": required,
            "label": title[:255],
            "resourceId": f"assignment-{assignment.id}",
            "tag": LINE_ITEM_TAG,
        },
        "submission": {"endDateTime": assignment.due_at.isoformat()},
    }
    now = int(time.time())
    claims = {
        "iss": choice.platform.client_id,
        "aud": choice.platform.issuer,
        "iat": now,
        "exp": now + RESPONSE_LIFETIME,
        "nonce": secrets.token_urlsafe(16),
        c.MESSAGE_TYPE: c.DEEP_LINKING_RESPONSE,
        c.VERSION: "1.3.0",
        c.DEPLOYMENT_ID: settings["deployment_id"],
        c.CONTENT_ITEMS: [item],
    }
    if settings.get("data") is not None:
        claims[c.DL_DATA] = settings["data"]
    return Response(settings["return_url"], registration.sign(claims), title, choice.platform.name)
