"""A person's own data: everything they wrote as JSON, and deleting their account."""

import secrets
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash

from coprod_study import audit, policy
from coprod_study.errors import Conflict, DomainError
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    ApiToken,
    CalendarToken,
    Course,
    CourseInvite,
    CourseMember,
    DigestRun,
    Episode,
    Extension,
    Flag,
    GroupQuestion,
    Inquiry,
    ListeningProgress,
    Membership,
    Notification,
    OutboxMessage,
    Post,
    PostRevision,
    ReminderSent,
    Reply,
    Revision,
    StudyGroup,
    StudyQuestion,
    Thread,
    ThreadFollow,
    ThreadRead,
    UsedReplyAddress,
    User,
)
from coprod_study.reflections import personal_data as learning_data

# Stored as the name of a deleted account; policy.author_label shows it translated.
FORMER_MEMBER = "Former member"
# werkzeug's check_password_hash() is False for anything not in its format.
UNUSABLE_PASSWORD = "!deleted"  # noqa: S105 (not a password: a marker no password matches)


def _when(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- Export ----------------------------------------------------------------------------


def _question_labels(answers: list[Answer]) -> dict[int, dict]:
    """Episode and wording of the question each answer answers (two queries)."""
    study_ids = {a.study_question_id for a in answers if a.study_question_id}
    extra_ids = {a.group_question_id for a in answers if a.group_question_id}
    study = {
        q.id: (q, e)
        for q, e in db.session.execute(
            select(StudyQuestion, Episode)
            .join(Episode, Episode.id == StudyQuestion.episode_id)
            .where(StudyQuestion.id.in_(study_ids))
        )
    }
    extra = {
        q.id: (q, e)
        for q, e in db.session.execute(
            select(GroupQuestion, Episode)
            .join(Episode, Episode.id == GroupQuestion.episode_id)
            .where(GroupQuestion.id.in_(extra_ids))
        )
    }
    labels = {}
    for answer in answers:
        question, episode = (
            study[answer.study_question_id]
            if answer.study_question_id
            else extra[answer.group_question_id]
        )
        labels[answer.id] = {
            "episode": episode.slug,
            "question": answer.question_text or question.prompt,
        }
    return labels


def _revisions(model, column, ids) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    if not ids:
        return found
    for revision in db.session.scalars(select(model).where(column.in_(ids)).order_by(model.id)):
        found.setdefault(getattr(revision, column.key), []).append(
            {
                "body": revision.body,
                "written_at": _when(revision.written_at),
                "replaced_at": _when(revision.replaced_at),
            }
        )
    return found


def _group_labels(user: User, groups: dict, memberships) -> dict[int, tuple[str, str]]:
    """Slug and name to export for each group: those of the groups the person may
    know, and "a group you left" for an invite-only group they are outside of now,
    whose current name and slug are no longer theirs to learn."""
    rows = {member.group_id: member for member, _group in memberships}
    course_roles = dict(
        db.session.execute(
            select(CourseMember.course_id, CourseMember.role).where(CourseMember.user_id == user.id)
        ).all()
    )
    left = _("a group you left")
    labels = {}
    for group in groups.values():
        # Seeded so that the policy asks no query per group.
        policy.remember_membership(user, group, rows.get(group.id))
        if group.course_id is not None:
            policy.remember_course_role(user, group.course_id, course_roles.get(group.course_id))
        known = policy.can_know_group(user, group)
        labels[group.id] = (group.slug, group.name) if known else (left, left)
    return labels


def export_data(user: User) -> dict:
    """Everything the person wrote, their settings, memberships, enrolments and notifications."""
    groups = {g.id: g for g in db.session.scalars(select(StudyGroup))}

    answers = list(
        db.session.scalars(select(Answer).where(Answer.user_id == user.id).order_by(Answer.id))
    )
    labels = _question_labels(answers)
    answer_history = _revisions(Revision, Revision.answer_id, [a.id for a in answers])
    replies = list(
        db.session.scalars(select(Reply).where(Reply.user_id == user.id).order_by(Reply.id))
    )
    reply_history = _revisions(Revision, Revision.reply_id, [r.id for r in replies])
    posts = list(db.session.scalars(select(Post).where(Post.user_id == user.id).order_by(Post.id)))
    post_history = _revisions(PostRevision, PostRevision.post_id, [p.id for p in posts])
    threads = {t.id: t for t in db.session.scalars(select(Thread))} if posts else {}

    def text_fields(item) -> dict:
        return {
            "body": item.body,
            "anonymous": item.anonymous,
            "created_at": _when(item.created_at),
            "edited_at": _when(item.edited_at),
            "deleted_at": _when(item.deleted_at),
            "hidden_at": _when(item.hidden_at),
        }

    memberships = db.session.execute(
        select(Membership, StudyGroup)
        .join(StudyGroup, StudyGroup.id == Membership.group_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    ).all()
    group_labels = _group_labels(user, groups, memberships)

    def group_label(group_id: int) -> str:
        return group_labels[group_id][0]

    enrolments = db.session.execute(
        select(CourseMember, Course)
        .join(Course, Course.id == CourseMember.course_id)
        .where(CourseMember.user_id == user.id)
        .order_by(CourseMember.id)
    ).all()
    listened = db.session.execute(
        select(ListeningProgress, Episode.slug)
        .join(Episode, Episode.id == ListeningProgress.episode_id)
        .where(ListeningProgress.user_id == user.id)
    ).all()
    return {
        "exported_at": _when(datetime.now(UTC)),
        "account": {
            "email": user.email,
            "display_name": user.display_name,
            "site_role": user.role,
            "language": user.language,
            "time_zone": user.time_zone,
            "email_preference": user.email_preference,
            "created_at": _when(user.created_at),
            "last_login_at": _when(user.last_login_at),
        },
        "group_memberships": [
            {
                "group": group_label(group.id),
                "group_name": group_labels[group.id][1],
                "role": member.role,
                "status": member.status,
                "request_message": member.request_message,
                "since": _when(member.created_at),
            }
            for member, group in memberships
        ],
        "course_enrolments": [
            {"course": course.code, "title": course.title, "role": member.role,
             "since": _when(member.created_at)}
            for member, course in enrolments
        ],
        "answers": [
            {
                "group": group_label(a.group_id),
                **labels[a.id],
                **text_fields(a),
                "earlier_versions": answer_history.get(a.id, []),
            }
            for a in answers
        ],
        "replies": [
            {
                "group": group_label(_reply_group(r)),
                "answer_id": r.answer_id,
                **text_fields(r),
                "earlier_versions": reply_history.get(r.id, []),
            }
            for r in replies
        ],
        "thread_posts": [
            {
                "group": group_label(threads[p.thread_id].group_id),
                "thread": threads[p.thread_id].title,
                **text_fields(p),
                "earlier_versions": post_history.get(p.id, []),
            }
            for p in posts
        ],
        "flags_filed": [
            {"group": group_label(f.group_id), "target": f.target_type, "reason": f.reason,
             "text": f.text, "created_at": _when(f.created_at)}
            for f in db.session.scalars(select(Flag).where(Flag.reporter_id == user.id))
        ],
        "listening": [
            {"episode": slug, "listened": row.listened, "position_seconds": row.position_seconds}
            for row, slug in listened
        ],
        "notifications": [
            {"kind": n.kind, "message": n.message, "url": n.url,
             "created_at": _when(n.created_at), "read_at": _when(n.read_at)}
            for n in db.session.scalars(
                select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
            )
        ],
        "api_tokens": [
            {"name": t.name, "scope": t.scope, "prefix": t.prefix,
             "created_at": _when(t.created_at), "last_used_at": _when(t.last_used_at),
             "expires_at": _when(t.expires_at), "revoked_at": _when(t.revoked_at)}
            for t in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
        ],
        "inquiries": [
            {"subject": i.subject, "message": i.message, "status": i.status, "reply": i.reply,
             "created_at": _when(i.created_at)}
            for i in db.session.scalars(select(Inquiry).where(Inquiry.email == user.email))
        ],
        **learning_data.export(user),
    }


def _reply_group(reply: Reply) -> int:
    return reply.answer.group_id


# --- Deleting an account ---------------------------------------------------------------


def _blocking_groups(user: User) -> list[str]:
    """Groups with other members where the person is the only facilitator."""
    mine = db.session.scalars(
        select(Membership.group_id).where(
            Membership.user_id == user.id,
            Membership.status == "active",
            Membership.role == "facilitator",
        )
    ).all()
    names = []
    for group_id in mine:
        facilitators = db.session.scalar(
            select(func.count()).where(
                Membership.group_id == group_id,
                Membership.status == "active",
                Membership.role == "facilitator",
            )
        )
        others = db.session.scalar(
            select(func.count()).where(
                Membership.group_id == group_id,
                Membership.status == "active",
                Membership.user_id != user.id,
            )
        )
        if facilitators == 1 and others:
            names.append(db.session.get(StudyGroup, group_id).name)
    return sorted(names)


def check_can_delete(user: User) -> None:
    if user.role == "admin":
        admins = db.session.scalar(
            select(func.count()).where(User.role == "admin", User.deleted_at.is_(None))
        )
        if admins <= 1:
            raise Conflict(_("You are the only admin. Make someone else an admin first."))
    blocking = _blocking_groups(user)
    if blocking:
        raise Conflict(
            _(
                "You are the only facilitator of %(groups)s. Make another member a facilitator "
                "there first, so the group is not left without one.",
                groups=", ".join(blocking),
            )
        )


def delete_account(user: User, password: str) -> None:
    """Remove the person's personal data; what they wrote stays under "Former member".

    :raise DomainError: the password is wrong.
    :raise Conflict: they are the last admin, or the only facilitator of a group.
    """
    if not password or not check_password_hash(user.password_hash, password):
        raise DomainError(_("That is not your password."), field="password")
    check_can_delete(user)
    old_name, old_email = user.display_name, user.email
    session = db.session
    user_id = user.id

    # Notifications others got that carry the person's name.
    answer_ids = select(Answer.id).where(Answer.user_id == user_id)
    reply_ids = select(Reply.id).where(Reply.user_id == user_id)
    post_ids = select(Post.id).where(Post.user_id == user_id)
    group_ids = select(Membership.group_id).where(Membership.user_id == user_id)
    about_them = or_(
        (Notification.target_type == "answer") & Notification.target_id.in_(answer_ids),
        (Notification.target_type == "reply") & Notification.target_id.in_(reply_ids),
        (Notification.target_type == "post") & Notification.target_id.in_(post_ids),
        (Notification.kind == "join_request") & Notification.group_id.in_(group_ids),
    )
    session.execute(
        update(Notification)
        .where(about_them, Notification.message.contains(old_name, autoescape=True))
        .values(message=func.replace(Notification.message, old_name, FORMER_MEMBER))
        .execution_options(synchronize_session=False)
    )
    # What belongs to the person alone.
    for model, column in (
        (Notification, Notification.user_id),
        (ThreadFollow, ThreadFollow.user_id),
        (ThreadRead, ThreadRead.user_id),
        (ListeningProgress, ListeningProgress.user_id),
        (CalendarToken, CalendarToken.user_id),
        (ApiToken, ApiToken.user_id),
        (DigestRun, DigestRun.user_id),
        (Extension, Extension.user_id),
        (ReminderSent, ReminderSent.user_id),
        (Membership, Membership.user_id),
        (CourseMember, CourseMember.user_id),
    ):
        session.execute(delete(model).where(column == user_id).execution_options(
            synchronize_session=False))
    learning_data.delete_for(user_id)
    session.execute(delete(CourseInvite).where(CourseInvite.email == old_email))
    session.execute(delete(Inquiry).where(Inquiry.email == old_email))
    # Mail to the address, sent or waiting: its text names the person.
    session.execute(delete(OutboxMessage).where(OutboxMessage.to_address == old_email))
    session.execute(delete(UsedReplyAddress).where(UsedReplyAddress.user_id == user_id))
    # The row stays so that answers and posts keep an author; nothing in it
    # says who that was, and the e-mail address is free to register again.
    user.email = f"deleted-{user_id}-{secrets.token_hex(6)}@deleted.invalid"
    user.display_name = FORMER_MEMBER
    user.password_hash = UNUSABLE_PASSWORD
    user.role = "learner"
    user.language = "en"
    user.time_zone = "UTC"
    user.email_preference = "off"
    user.last_login_at = None
    user.session_version += 1
    user.deleted_at = datetime.now(UTC)
    audit.record(user, "user.deleted_account", subject=user, target=user)
    session.commit()
