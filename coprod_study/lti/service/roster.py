"""Names and Role Provisioning: an educator brings the LMS course's roster into the course."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from coprod_study import audit, policy
from coprod_study.courses import service as course_service
from coprod_study.errors import DomainError, Forbidden
from coprod_study.extensions import db
from coprod_study.lti.service import claims as c
from coprod_study.lti.service import http, people, platform_api
from coprod_study.models import CourseMember, LtiContext, LtiIdentity, LtiPlatform

MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 100


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def context_of(course) -> LtiContext | None:
    return db.session.scalar(
        select(LtiContext).where(LtiContext.course_id == course.id).order_by(LtiContext.id).limit(1)
    )


def _members(platform: LtiPlatform, url: str) -> list[dict]:
    token = platform_api.access_token(platform, [c.SCOPE_MEMBERSHIPS])
    members, pages = [], 0
    while url and pages < MAX_PAGES:
        data, response = http.get_json(url, headers=platform_api.bearer(token, MEDIA_TYPE))
        members.extend(m for m in data.get("members", []) if isinstance(m, dict))
        url = response.links.get("next", {}).get("url")
        pages += 1
    return members


def sync(actor, course) -> SyncResult:
    """Add, re-role and remove course members so the course matches the LMS roster.

    Only people who came from this LMS (an identity for its issuer) are removed; people
    who enrolled here by code stay. The actor is never removed.

    :raise Forbidden: not an educator of the course.
    :raise DomainError: the course is not linked to an LMS course with a roster service.
    :raise PlatformError: the LMS refused or could not be reached.
    """
    if not policy.can_manage_course(actor, course):
        raise Forbidden(_("Only the course's educators may do this."))
    context = context_of(course)
    if context is None or not context.memberships_url:
        raise DomainError(_("This course is not linked to an LMS course that shares its roster."))
    platform = db.session.get(LtiPlatform, context.platform_id)
    result = SyncResult()
    seen: set[int] = set()
    for member in _members(platform, context.memberships_url):
        role = c.course_role(member.get("roles"))
        subject = str(member.get("user_id") or "")
        if not subject or role is None or member.get("status", "Active") != "Active":
            continue
        user = people.person_for(platform, subject, member.get("name"), member.get("email"))
        db.session.commit()
        seen.add(user.id)
        outcome = people.place(course, user, role, actor, demote=True)
        if outcome:
            getattr(result, outcome).append(user.display_name)
    from_lms = select(LtiIdentity.user_id).where(LtiIdentity.platform_id == platform.id)
    for row in db.session.scalars(
        select(CourseMember).where(
            CourseMember.course_id == course.id, CourseMember.user_id.in_(from_lms)
        )
    ).all():
        if row.user_id in seen or row.user_id == actor.id:
            continue
        name = row.user.display_name
        if row.role == "learner":
            course_service.remove_learner(actor, course, row.user_id)
        else:
            audit.record(actor, "lti.member_removed", subject=row.user, target=course,
                         details={"code": course.code, "role": row.role})
            db.session.delete(row)
            db.session.commit()
            policy.forget_memberships()
        result.removed.append(name)
    context.roster_synced_at = datetime.now(UTC)
    audit.record(actor, "lti.roster_synced", target=course, details={
        "code": course.code, "added": len(result.added), "changed": len(result.changed),
        "removed": len(result.removed),
    })
    db.session.commit()
    return result
