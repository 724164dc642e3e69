"""Study groups: forming, joining, members and the group's own questions."""

import functools
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask_babel import format_number
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit, policy
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.markup import MAX_MARKDOWN_LENGTH, render_markdown
from coprod_study.models import (
    JOIN_POLICIES,
    CourseMember,
    Episode,
    GroupQuestion,
    Membership,
    StudyGroup,
    StudyQuestion,
)
from coprod_study.notifications import service as notifications
from coprod_study.urls import path_for

MAX_NAME = 120
MAX_QUESTION = 2_000
MAX_MESSAGE = 1_000


def _now() -> datetime:
    return datetime.now(UTC)


def new_invite_code() -> str:
    return secrets.token_urlsafe(32)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:60].strip("-") or "group"


def _unique_slug(name: str) -> str:
    base = slugify(name)
    taken = set(
        db.session.scalars(
            select(StudyGroup.slug).where(
                (StudyGroup.slug == base) | StudyGroup.slug.like(f"{base}-%")
            )
        )
    )
    if base not in taken and base not in RESERVED_SLUGS:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


# Paths under /groups/ that are not groups.
RESERVED_SLUGS = {"new", "join"}


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Give the group a name."), field="name")
    if len(name) > MAX_NAME:
        raise DomainError(_("Use at most %(max)s characters for the name.", max=MAX_NAME), field="name")
    return name


def check_markdown(text: str, field: str = "body") -> str:
    text = (text or "").strip()
    if len(text) > MAX_MARKDOWN_LENGTH:
        raise DomainError(
            _(
                "This is %(length)s characters long; the limit is %(limit)s.",
                length=format_number(len(text)),
                limit=format_number(MAX_MARKDOWN_LENGTH),
            ),
            field=field,
        )
    return text


# Every group page starts with one of these two: they are built once per process, since
# building a statement and working out its cache key cost more than running it.
@functools.cache
def _group_stmt():
    return select(StudyGroup).where(StudyGroup.slug == bindparam("slug"))


@functools.cache
def _group_with_viewer_stmt():
    # The viewer's part in the group's course too: its educators facilitate it.
    viewer_id = bindparam("viewer_id")
    return (
        select(StudyGroup, Membership, CourseMember.role)
        .outerjoin(
            Membership,
            (Membership.group_id == StudyGroup.id) & (Membership.user_id == viewer_id),
        )
        .outerjoin(
            CourseMember,
            (CourseMember.course_id == StudyGroup.course_id) & (CourseMember.user_id == viewer_id),
        )
        .where(StudyGroup.slug == bindparam("slug"))
    )


def get_group(slug: str, viewer=None) -> StudyGroup:
    """The group at `slug`; with a signed-in `viewer`, their membership (and their role
    in the group's course) comes in the same query.

    :raise NotFound: when no group has this slug.
    """
    if not getattr(viewer, "is_authenticated", False):
        group = db.session.scalar(_group_stmt(), {"slug": slug})
        if group is None:
            raise NotFound(_("There is no such group."))
        return group
    row = db.session.execute(
        _group_with_viewer_stmt(), {"slug": slug, "viewer_id": viewer.id}
    ).first()
    if row is None:
        raise NotFound(_("There is no such group."))
    group, membership, course_role = row
    policy.remember_membership(viewer, group, membership)
    if group.course_id is not None:
        policy.remember_course_role(viewer, group.course_id, course_role)
    return group


def create_group(
    user,
    *,
    name: str,
    description: str = "",
    join_policy: str = "open",
    post_first: bool = True,
    allow_anonymous: bool = False,
    copy_questions_from: StudyGroup | None = None,
    course=None,
) -> StudyGroup:
    if course is not None:
        if not policy.can_manage_course(user, course):
            raise Forbidden(_("Only the course's educators may make its groups."))
    elif not policy.can_create_group(user):
        raise Forbidden(_("On this site, only facilitators and up may form groups."))
    name = _clean_name(name)
    description = check_markdown(description, "description")
    if join_policy not in JOIN_POLICIES:
        raise DomainError(_("Choose how people join."), field="join_policy")
    if copy_questions_from is not None and not policy.can_moderate(user, copy_questions_from):
        raise Forbidden(_("You can copy questions only from groups you facilitate."))
    group = StudyGroup(
        slug=_unique_slug(name),
        name=name,
        description=description,
        description_html=str(render_markdown(description)),
        join_policy=join_policy,
        post_first=post_first,
        allow_anonymous=allow_anonymous,
        invite_code=new_invite_code(),
        created_by_id=user.id,
        course_id=getattr(course, "id", None),
    )
    db.session.add(group)
    db.session.flush()
    db.session.add(
        Membership(group_id=group.id, user_id=user.id, role="facilitator", status="active")
    )
    if copy_questions_from is not None:
        for source in db.session.scalars(
            select(GroupQuestion).where(GroupQuestion.group_id == copy_questions_from.id)
        ):
            db.session.add(
                GroupQuestion(
                    group_id=group.id,
                    episode_id=source.episode_id,
                    position=source.position,
                    prompt=source.prompt,
                    created_by_id=user.id,
                )
            )
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("A group with this name was just made; try another name."), "name") from error
    policy.forget_memberships()
    return group


def update_group(
    user, group: StudyGroup, *, name, description, join_policy, post_first, allow_anonymous
) -> None:
    if not policy.can_moderate(user, group):
        raise Forbidden(_("Only the group's facilitators may change its settings."))
    group.name = _clean_name(name)
    group.description = check_markdown(description, "description")
    group.description_html = str(render_markdown(group.description))
    if join_policy not in JOIN_POLICIES:
        raise DomainError(_("Choose how people join."), field="join_policy")
    group.join_policy = join_policy
    group.post_first = post_first
    group.allow_anonymous = allow_anonymous
    db.session.commit()


def facilitated_groups(user) -> list[StudyGroup]:
    return list(
        db.session.scalars(
            select(StudyGroup)
            .join(Membership, Membership.group_id == StudyGroup.id)
            .where(
                Membership.user_id == user.id,
                Membership.status == "active",
                Membership.role == "facilitator",
            )
            .order_by(StudyGroup.name)
        )
    )


def my_groups(user) -> list[tuple[StudyGroup, Membership]]:
    if not getattr(user, "is_authenticated", False):
        return []
    rows = db.session.execute(
        select(StudyGroup, Membership)
        .join(Membership, Membership.group_id == StudyGroup.id)
        .where(Membership.user_id == user.id, Membership.status.in_(policy.INSIDE_STATUSES))
        .order_by(StudyGroup.name)
    )
    found = [(group, member) for group, member in rows]
    for group, member in found:
        policy.remember_membership(user, group, member)
    return found


def joinable_groups_stmt(user):
    """Open and request-to-join groups the person is not in (never invite-only ones)."""
    stmt = select(StudyGroup).where(StudyGroup.join_policy.in_(["open", "request"]))
    if getattr(user, "is_authenticated", False):
        mine = select(Membership.group_id).where(Membership.user_id == user.id)
        stmt = stmt.where(StudyGroup.id.not_in(mine))
    return stmt.order_by(StudyGroup.name, StudyGroup.id)


def member_counts(group_ids: list[int]) -> dict[int, int]:
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(Membership.group_id, func.count())
        .where(Membership.group_id.in_(group_ids), Membership.status == "active")
        .group_by(Membership.group_id)
    )
    return dict(rows.all())


def _existing(user, group) -> Membership | None:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id)
    )


def _refuse_existing(row: Membership | None) -> None:
    if row is None:
        return
    if row.status == "active":
        raise Conflict(_("You are already a member of this group."))
    if row.status == "pending":
        raise Conflict(_("Your request to join is waiting for a facilitator."))
    if row.status == "banned":
        raise Forbidden(_("You are banned from this group and cannot join it again."))


def _add_member(user, group, status: str, message: str | None = None) -> Membership:
    member = _existing(user, group)
    _refuse_existing(member)
    if member is None:
        member = Membership(group_id=group.id, user_id=user.id)
        db.session.add(member)
    # A removed member coming back starts over as a plain member.
    member.role, member.status, member.request_message = "member", status, message
    member.created_at = _now()
    try:
        db.session.commit()
    except IntegrityError as error:
        # A double click: the first request already made the row.
        db.session.rollback()
        raise Conflict(_("You are already a member of this group.")) from error
    policy.forget_memberships()
    return member


def join(user, group: StudyGroup, message: str | None = None) -> Membership:
    """Join an open group, or ask to join a request-to-join group."""
    if group.join_policy == "open":
        return _add_member(user, group, "active")
    if group.join_policy == "request":
        message = (message or "").strip()
        if len(message) > MAX_MESSAGE:
            raise DomainError(_("Keep the message under %(max)s characters.", max=MAX_MESSAGE), "message")
        member = _add_member(user, group, "pending", message or None)
        facilitators = db.session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group.id,
                Membership.status == "active",
                Membership.role == "facilitator",
            )
        ).all()
        notifications.notify(
            facilitators,
            "join_request",
            _l("%(name)s asks to join %(group)s", name=user.display_name, group=group.name),
            path_for("groups.members", slug=group.slug),
            group=group,
        )
        db.session.commit()
        return member
    raise NotFound(_("There is no such group."))


def group_for_invite(code: str) -> StudyGroup | None:
    if not code or len(code) > 64:
        return None
    return db.session.scalar(select(StudyGroup).where(StudyGroup.invite_code == code))


def join_by_invite(user, code: str) -> StudyGroup:
    group = group_for_invite(code)
    if group is None:
        raise NotFound(_("This invite link is not valid any more. Ask a facilitator for a new one."))
    _add_member(user, group, "active")
    return group


def reset_invite(actor, group: StudyGroup) -> str:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may reset the invite link."))
    group.invite_code = new_invite_code()
    audit.record(
        actor, "group.invite_reset", target=group, group=group, details={"group": group.slug}
    )
    db.session.commit()
    return group.invite_code


def leave(user, group: StudyGroup) -> None:
    row = _existing(user, group)
    # A removed or banned row is not a membership to leave; deleting a ban's row would
    # lift the ban.
    if not policy.is_inside(row):
        raise Conflict(_("You are not a member of this group."))
    if row.is_facilitator:
        others = db.session.scalar(
            select(func.count()).where(
                Membership.group_id == group.id,
                Membership.role == "facilitator",
                Membership.status == "active",
                Membership.user_id != user.id,
            )
        )
        if not others:
            raise Conflict(
                _(
                    "You are the group's only facilitator. Make another member a facilitator "
                    "before you leave."
                )
            )
    # Like a removed member, someone who leaves loses the group's unread notifications.
    notifications.withdraw_for_member(group, user.id)
    db.session.delete(row)
    db.session.commit()
    policy.forget_memberships()


def _member_row(group: StudyGroup, user_id: int) -> Membership:
    row = db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, Membership.user_id == user_id)
    )
    if row is None:
        raise NotFound(_("This person is not in the group."))
    return row


def decide_request(actor, group, user_id: int, approve: bool, message: str | None = None):
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may decide join requests."))
    row = _member_row(group, user_id)
    if row.status != "pending":
        raise Conflict(_("This request was already decided."))
    message = (message or "").strip()[:MAX_MESSAGE] or None
    audit.record(
        actor,
        "group.request_approved" if approve else "group.request_declined",
        subject=row.user,
        target=group,
        group=group,
        details={"group": group.slug},
        reason=message,
    )
    if approve and message:
        text = _l(
            "Your request to join %(group)s was approved: %(message)s",
            group=group.name,
            message=message,
        )
    elif approve:
        text = _l("Your request to join %(group)s was approved.", group=group.name)
    elif message:
        text = _l(
            "Your request to join %(group)s was declined: %(message)s",
            group=group.name,
            message=message,
        )
    else:
        text = _l("Your request to join %(group)s was declined.", group=group.name)
    notifications.notify(
        [row.user_id],
        "join_decided",
        text,
        path_for("groups.show", slug=group.slug),
        group=group if approve else None,
    )
    if approve:
        row.status = "active"
        row.decided_at = _now()
        row.decision_message = message
    else:
        # Declining removes the request; the person may ask again later.
        db.session.delete(row)
    db.session.commit()
    policy.forget_memberships()
    return row


def set_member_role(actor, group, user_id: int, role: str) -> Membership:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may change roles."))
    row = _member_row(group, user_id)
    if row.status != "active":
        raise Conflict(_("Only active members can be promoted or demoted."))
    if role not in ("member", "facilitator"):
        raise DomainError(_("Unknown group role."))
    if row.role == role:
        return row
    if role == "member" and _facilitator_count(group) <= 1:
        raise Conflict(_("A group needs at least one facilitator."))
    audit.record(
        actor,
        "group.role_changed",
        subject=row.user,
        target=group,
        group=group,
        details={"group": group.slug, "from": row.role, "to": role},
    )
    row.role = role
    db.session.commit()
    policy.forget_memberships()
    return row


def _facilitator_count(group) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Membership.group_id == group.id,
            Membership.role == "facilitator",
            Membership.status == "active",
        )
    )


def check_removal(actor, group, user_id: int) -> Membership:
    """The membership `actor` may remove (asked before the confirmation step too).

    :raise Forbidden: not a facilitator.  :raise Conflict: yourself, already removed,
        or the last facilitator.
    """
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may remove members."))
    row = _member_row(group, user_id)
    if row.user_id == actor.id:
        raise Conflict(_("To leave the group yourself, use “Leave group”."))
    if row.status == "removed":
        raise Conflict(_("This person was already removed."))
    if row.is_facilitator and _facilitator_count(group) <= 1:
        raise Conflict(_("A group needs at least one facilitator."))
    return row


def remove_member(
    actor, group, user_id: int, reason: str | None = None, *, reset_invite: bool = False
) -> Membership:
    """Take a member out of the group. Removal is not a ban: the invite link (and, for an
    open or request group, the join button) still lets them back, unless `reset_invite`
    makes a new link in the same transaction."""
    row = check_removal(actor, group, user_id)
    row.status = "removed"
    row.role = "member"
    row.decided_at = _now()
    notifications.withdraw_for_member(group, row.user_id)
    audit.record(
        actor,
        "group.member_removed",
        subject=row.user,
        target=group,
        group=group,
        details={"group": group.slug},
        reason=(reason or "").strip()[:MAX_MESSAGE] or None,
    )
    if reset_invite:
        group.invite_code = new_invite_code()
        audit.record(
            actor, "group.invite_reset", target=group, group=group, details={"group": group.slug}
        )
    db.session.commit()
    policy.forget_memberships()
    return row


def members(group) -> list[Membership]:
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(Membership)
            .options(selectinload(Membership.user))
            .where(Membership.group_id == group.id)
            .order_by(Membership.status, Membership.role.desc(), Membership.created_at)
        )
    )


# --- The group's questions --------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A study question as a group sees it: the catalog's, then the group's own."""

    number: int
    prompt: str
    audiences: tuple[str, ...]
    study_question_id: int | None = None
    group_question_id: int | None = None
    episode_id: int | None = None

    @property
    def is_extra(self) -> bool:
        return self.group_question_id is not None

    @property
    def key(self) -> tuple[str, int]:
        if self.study_question_id is not None:
            return ("s", self.study_question_id)
        return ("g", self.group_question_id)


def studied_in(group):
    """The condition on Episode for the episodes a group studies: every episode, or
    for a course's group only those the course assigns."""
    from sqlalchemy import true

    if group.course_id is None:
        return true()
    return _assigned_by(group.course_id)


def _assigned_by(course_id):
    """The condition on Episode for the episodes course `course_id` (a value or a bound
    parameter) assigns."""
    from coprod_study.models import Assignment

    return Episode.id.in_(select(Assignment.episode_id).where(Assignment.course_id == course_id))


@dataclass
class ListedEpisode:
    """An episode as the group page lists it: plain values, not a loaded Episode."""

    id: int
    slug: str
    number: int
    title: str
    dimension_name: str
    questions: list[Question] = field(default_factory=list)


def group_episodes(group) -> list[ListedEpisode]:
    """The episodes the group page lists, with their dimension's name and their catalog
    questions numbered, in one query of plain rows (some 300 for 50 episodes: as ORM
    objects they cost four times as much to load)."""
    from coprod_study.models import Dimension

    stmt = (
        select(
            Episode.id, Episode.slug, Episode.number, Episode.title, Dimension.name,
            StudyQuestion.id, StudyQuestion.prompt, StudyQuestion.audiences,
        )
        .join(Dimension, Dimension.id == Episode.dimension_id)
        .outerjoin(StudyQuestion, StudyQuestion.episode_id == Episode.id)
        .where(studied_in(group))
        .order_by(Episode.number, StudyQuestion.position)
    )
    listed: list[ListedEpisode] = []
    for row in db.session.execute(stmt):
        episode_id, slug, number, title, dimension_name, question_id, prompt, audiences = row
        if not listed or listed[-1].id != episode_id:
            listed.append(ListedEpisode(episode_id, slug, number, title, dimension_name))
        episode = listed[-1]
        if question_id is not None:
            episode.questions.append(
                _catalog_question(
                    episode_id, len(episode.questions) + 1, question_id, prompt, audiences
                )
            )
    return listed


def listed_questions(episode: ListedEpisode, extras: list[GroupQuestion]) -> list[Question]:
    """A listed episode's questions as the group sees them: the catalog's, then its own."""
    return _with_own(episode.id, episode.questions, extras)


# A group's own questions on an episode, in the order they are numbered.
OWN_QUESTION_ORDER = (GroupQuestion.position, GroupQuestion.id)


def extra_questions(group, episode_ids: list[int] | None = None) -> list[GroupQuestion]:
    return extra_questions_by_group([group.id], episode_ids).get(group.id, [])


def extra_questions_by_group(
    group_ids: list[int], episode_ids: list[int] | None = None
) -> dict[int, list[GroupQuestion]]:
    """The extra questions of several groups (on these episodes, or all), by group,
    in one query."""
    found: dict[int, list[GroupQuestion]] = {}
    if not group_ids:
        return found
    stmt = select(GroupQuestion).where(GroupQuestion.group_id.in_(group_ids))
    if episode_ids is not None:
        stmt = stmt.where(GroupQuestion.episode_id.in_(episode_ids))
    for question in db.session.scalars(stmt.order_by(*OWN_QUESTION_ORDER)):
        found.setdefault(question.group_id, []).append(question)
    return found


def questions_for(episode: Episode, extras: list[GroupQuestion]) -> list[Question]:
    catalog = [
        _catalog_question(episode.id, number, q.id, q.prompt, q.audiences)
        for number, q in enumerate(episode.questions, start=1)
    ]
    return _with_own(episode.id, catalog, extras)


def _catalog_question(episode_id: int, number: int, question_id: int, prompt: str,
                      audiences) -> Question:
    return Question(
        number=number, prompt=prompt, audiences=tuple(audiences or ()),
        study_question_id=question_id, episode_id=episode_id,
    )


def _with_own(episode_id: int, catalog: list[Question], extras: list[GroupQuestion]
              ) -> list[Question]:
    """The catalog's questions, then the group's own on this episode numbered after them
    (`extras` may hold other episodes' too)."""
    own = [x for x in extras if x.episode_id == episode_id]
    start = len(catalog) + 1
    return catalog + [_own_question(episode_id, x, start + i) for i, x in enumerate(own)]


def _own_question(episode_id: int, extra: GroupQuestion, number: int) -> Question:
    """A group's own question, numbered after the catalog's."""
    return Question(
        number=number, prompt=extra.prompt, audiences=(), group_question_id=extra.id,
        episode_id=episode_id,
    )


def _episode_with_questions(condition) -> Episode:
    from sqlalchemy.orm import joinedload

    # One episode and its few questions: one query with a join.
    episode = (
        db.session.scalars(select(Episode).options(joinedload(Episode.questions)).where(condition))
        .unique()
        .first()
    )
    if episode is None:
        raise NotFound(_("There is no such episode."))
    return episode


def get_episode(slug: str) -> Episode:
    return _episode_with_questions(Episode.slug == slug)


@functools.cache
def _group_episode_stmt(in_course: bool):
    """An episode by slug with its questions, for a group in a course (only if the
    course assigns it) or not: built once per process for each."""
    from sqlalchemy.orm import joinedload

    stmt = (
        select(Episode)
        .options(joinedload(Episode.questions))
        .where(Episode.slug == bindparam("slug"))
    )
    if in_course:
        stmt = stmt.where(_assigned_by(bindparam("course_id")))
    return stmt


def get_group_episode(group, slug: str) -> Episode:
    """An episode as a group studies it.

    :raise NotFound: no such episode, or the group's course does not assign it.
    """
    episode = (
        db.session.scalars(
            _group_episode_stmt(group.course_id is not None),
            {"slug": slug, "course_id": group.course_id},
        )
        .unique()
        .first()
    )
    if episode is not None:
        return episode
    if group.course_id is not None and db.session.scalar(
        select(Episode.id).where(Episode.slug == slug)
    ):
        raise NotFound(
            _(
                "%(group)s studies the episodes its course assigns, and this one is "
                "not assigned.",
                group=group.name,
            )
        )
    raise NotFound(_("There is no such episode."))


def groups_studying(groups: list, episode: Episode) -> list:
    """Those of `groups` that study `episode` (one query when a course's group is among
    them, none otherwise)."""
    from coprod_study.models import Assignment

    course_ids = {group.course_id for group in groups if group.course_id is not None}
    assigning = set()
    if course_ids:
        assigning = set(
            db.session.scalars(
                select(Assignment.course_id).where(
                    Assignment.course_id.in_(course_ids), Assignment.episode_id == episode.id
                )
            )
        )
    return [group for group in groups if group.course_id is None or group.course_id in assigning]


def question_episode_id(study_question_id: int | None, group_question_id: int | None):
    """The id of the episode a question (the catalog's or a group's) is about, as a
    scalar subquery."""
    if study_question_id is not None:
        return (
            select(StudyQuestion.episode_id)
            .where(StudyQuestion.id == study_question_id)
            .scalar_subquery()
        )
    return (
        select(GroupQuestion.episode_id)
        .where(GroupQuestion.id == group_question_id)
        .scalar_subquery()
    )


def episode_of_answer(answer, group) -> Episode:
    """The episode (with its questions) of the question an answer answers.

    :raise NotFound: the group (the answer's) no longer studies that episode.
    """
    return _episode_with_questions(
        (Episode.id == question_episode_id(answer.study_question_id, answer.group_question_id))
        & studied_in(group)
    )


def get_question(group, episode: Episode, number: int) -> Question:
    """Question `number` of `episode` as `group` numbers them: the catalog's first, so
    the group's own questions are read only for a number past the catalog's."""
    catalog_count = len(episode.questions)
    if 1 <= number <= catalog_count:
        return questions_for(episode, [])[number - 1]
    if number > catalog_count:
        own = db.session.scalars(
            select(GroupQuestion)
            .where(GroupQuestion.group_id == group.id, GroupQuestion.episode_id == episode.id)
            .order_by(*OWN_QUESTION_ORDER)
            .offset(number - catalog_count - 1)
            .limit(1)
        ).first()
        if own is not None:
            return _own_question(episode.id, own, number)
    raise NotFound(_("Episode %(episode)s has no question %(number)s.", episode=episode.number, number=number))


def _clean_prompt(prompt: str) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise DomainError(_("Write the question."), field="prompt")
    if len(prompt) > MAX_QUESTION:
        raise DomainError(_("Keep the question under %(max)s characters.", max=MAX_QUESTION), field="prompt")
    return prompt


def add_extra_question(actor, group, episode: Episode, prompt: str) -> GroupQuestion:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may add questions."))
    prompt = _clean_prompt(prompt)
    last = db.session.scalar(
        select(func.max(GroupQuestion.position)).where(
            GroupQuestion.group_id == group.id, GroupQuestion.episode_id == episode.id
        )
    )
    question = GroupQuestion(
        group_id=group.id,
        episode_id=episode.id,
        position=(last or 0) + 1,
        prompt=prompt,
        created_by_id=actor.id,
    )
    db.session.add(question)
    db.session.commit()
    return question


def get_extra_question(group, question_id: int) -> GroupQuestion:
    question = db.session.get(GroupQuestion, question_id)
    if question is None or question.group_id != group.id:
        raise NotFound(_("There is no such question in this group."))
    return question


def edit_extra_question(actor, group, question_id: int, prompt: str) -> GroupQuestion:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may edit questions."))
    question = get_extra_question(group, question_id)
    question.prompt = _clean_prompt(prompt)
    db.session.commit()
    return question


def move_extra_question(actor, group, question_id: int, direction: str) -> None:
    """Swap a question with its neighbour ("up" or "down")."""
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may reorder questions."))
    question = get_extra_question(group, question_id)
    siblings = [
        q for q in extra_questions(group, [question.episode_id])
    ]
    index = siblings.index(question)
    other_index = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other_index < len(siblings):
        return
    siblings[index], siblings[other_index] = siblings[other_index], siblings[index]
    for position, item in enumerate(siblings, start=1):
        item.position = position
    db.session.commit()


def study_question(question_id: int) -> StudyQuestion | None:
    return db.session.get(StudyQuestion, question_id)
