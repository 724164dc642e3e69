"""People and course places from an LMS: identities by (issuer, subject), course roles."""

import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import select

from coprod_study import audit, policy
from coprod_study.account.service import hash_password, normalize_email
from coprod_study.courses import service as course_service
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.models import CourseMember, LtiIdentity, LtiPlatform, Membership, StudyGroup, User

MAX_NAME = 80


def identity_user(platform: LtiPlatform, subject: str) -> User | None:
    return db.session.scalar(
        select(User)
        .join(LtiIdentity, LtiIdentity.user_id == User.id)
        .where(LtiIdentity.platform_id == platform.id, LtiIdentity.subject == subject)
    )


def _free_email(raw: str | None) -> str | None:
    """The LMS's address when no account here has it; an account that does is never
    taken over on the strength of the address alone."""
    try:
        address = normalize_email(raw or "")
    except DomainError:
        return None
    taken = db.session.scalar(select(User.id).where(User.email == address))
    return None if taken else address


def person_for(platform: LtiPlatform, subject: str, name: str | None, email: str | None) -> User:
    """The account of (platform, subject), made on first sight (added to the session, not
    committed). A made account has an unusable password; its owner can set one by
    resetting it when the LMS gave a real address."""
    user = identity_user(platform, subject)
    if user is not None:
        return user
    address = _free_email(email)
    placeholder = address is None
    if placeholder:
        digest = hashlib.sha256(f"{platform.id}:{subject}".encode()).hexdigest()[:20]
        address = f"lti-{digest}@lti.invalid"
    display = " ".join((name or "").split())[:MAX_NAME] or _("LMS user")
    user = User(
        email=address,
        display_name=display,
        password_hash=hash_password(secrets.token_urlsafe(32)),
        email_preference="off" if placeholder else "daily",
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(LtiIdentity(platform_id=platform.id, subject=subject, user_id=user.id))
    return user


def course_membership(course, user) -> CourseMember | None:
    return db.session.scalar(
        select(CourseMember).where(
            CourseMember.course_id == course.id, CourseMember.user_id == user.id
        )
    )


def place(course, user, role: str, actor=None, *, demote: bool = False) -> str:
    """Give `user` the course role the LMS names: "added", "changed" or "" (as it was).
    Learners join through the course's own enrolment; an educator is never turned
    into a learner by a launch (`demote` is for the roster sync).
    """
    row = course_membership(course, user)
    if row is None:
        if role == "learner":
            course_service.enrol(user, course.enrol_code)
            _join_only_group(course, user)
        else:
            db.session.add(CourseMember(course_id=course.id, user_id=user.id, role="educator"))
            audit.record(actor or user, "lti.member_added", subject=user, target=course,
                         details={"code": course.code, "role": role})
            db.session.commit()
            policy.forget_memberships()
        return "added"
    if row.role == role or (role == "learner" and not demote):
        return ""
    audit.record(actor or user, "lti.role_changed", subject=user, target=course,
                 details={"code": course.code, "from": row.role, "to": role})
    row.role = role
    db.session.commit()
    policy.forget_memberships()
    if role == "learner":
        _join_only_group(course, user)
    return "changed"


def _join_only_group(course, user) -> None:
    """A learner who arrives from the LMS lands in the course's group when it has one
    only and learners choose theirs (as a course made by a launch does)."""
    groups = course_service.course_groups(course)
    if len(groups) != 1 or course.placement != "choice":
        return
    already = db.session.scalar(
        select(Membership.id)
        .join(StudyGroup, StudyGroup.id == Membership.group_id)
        .where(StudyGroup.course_id == course.id, Membership.user_id == user.id)
    )
    if not already:
        course_service.choose_group(user, course, groups[0].id)


def learner_group(course, user) -> StudyGroup | None:
    return db.session.scalar(
        select(StudyGroup)
        .join(Membership, Membership.group_id == StudyGroup.id)
        .where(
            StudyGroup.course_id == course.id,
            Membership.user_id == user.id,
            Membership.status == "active",
        )
        .limit(1)
    )
