"""Facilitator threads: posting, quoting, following, read marks, pins and locks."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from coprod_study import policy
from coprod_study.database import begin_writing
from coprod_study.discussion import mentions
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.groups.answers import check_post_rate, count_post, save_edit
from coprod_study.groups.service import check_markdown
from coprod_study.models import (
    ANONYMOUS_LABEL,
    FOLLOW_LEVELS,
    Membership,
    Post,
    PostRevision,
    Thread,
    ThreadFollow,
    ThreadRead,
)
from coprod_study.notifications import service as notifications
from coprod_study.urls import path_for

MAX_TITLE = 200
MOMENT_RE = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)$")


def _now() -> datetime:
    return datetime.now(UTC)


def parse_moment(text: str | None) -> int | None:
    """'12:34' or '1:02:03' to seconds; '' to None; anything else raises."""
    text = (text or "").strip()
    if not text:
        return None
    match = MOMENT_RE.match(text)
    if not match:
        raise DomainError(_("Write the moment as mm:ss, for example 12:34."), field="moment")
    hours, minutes, seconds = match.groups()
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)


def format_moment(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _clean_body(body: str) -> str:
    body = check_markdown(body, "body")
    if not body:
        raise DomainError(_("Write something before you post."), field="body")
    return body


def _author_name(post: Post, user) -> str:
    return ANONYMOUS_LABEL if post.anonymous else user.display_name


def _active_member_ids(group) -> list[int]:
    return list(
        db.session.scalars(
            select(Membership.user_id).where(
                Membership.group_id == group.id, Membership.status == "active"
            )
        )
    )


def thread_url(thread: Thread, post: Post | None = None) -> str:
    url = path_for("discussion.thread", slug=thread.group.slug, thread_id=thread.id)
    return url + (f"#post-{post.id}" if post is not None else "")


def get_thread(group, thread_id: int) -> Thread:
    thread = db.session.get(Thread, thread_id)
    if thread is None or thread.group_id != group.id:
        raise NotFound(_("There is no such thread in this group."))
    return thread


def get_post(group, post_id: int) -> Post:
    post = db.session.get(Post, post_id)
    if post is None or post.thread.group_id != group.id:
        raise NotFound(_("There is no such post in this group."))
    return post


# --- Threads -------------------------------------------------------------------


def create_thread(
    actor,
    group,
    *,
    title: str,
    body: str,
    episode=None,
    moment: str | None = None,
    announcement: bool = False,
) -> Thread:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators start threads."))
    title = " ".join((title or "").split())
    if not title:
        raise DomainError(_("Give the thread a title."), field="title")
    if len(title) > MAX_TITLE:
        raise DomainError(_("Keep the title under %(max)s characters.", max=MAX_TITLE), field="title")
    body = _clean_body(body)
    seconds = parse_moment(moment)
    if seconds is not None and episode is None:
        raise DomainError(_("Choose the episode the moment belongs to."), field="moment")
    if seconds is not None and episode.duration_seconds and seconds > episode.duration_seconds:
        raise DomainError(_("That moment is after the end of the episode."), field="moment")
    check_post_rate(actor)
    thread = Thread(
        group_id=group.id,
        author_id=actor.id,
        episode_id=getattr(episode, "id", None),
        moment_seconds=seconds,
        title=title,
        announcement=announcement,
    )
    db.session.add(thread)
    db.session.flush()
    named = mentions.mentioned_members(group, body)
    post = Post(
        thread_id=thread.id, user_id=actor.id, body=body, body_html=mentions.render(group, body, named)
    )
    db.session.add(post)
    db.session.flush()
    members = _active_member_ids(group)
    # Every member follows a new facilitator thread (watching); one INSERT.
    db.session.execute(
        insert(ThreadFollow),
        [{"user_id": uid, "thread_id": thread.id, "level": "watching"} for uid in members],
    )
    db.session.add(ThreadRead(user_id=actor.id, thread_id=thread.id, last_post_id=post.id))
    kind = "announcement" if announcement else "new_thread"
    if announcement:
        text = _l("Announcement in %(group)s: %(title)s", group=group.name, title=title)
    else:
        text = _l("New thread in %(group)s: %(title)s", group=group.name, title=title)
    notifications.notify(
        members,
        kind,
        text,
        thread_url(thread),
        group=group,
        thread=thread,
        target_type="post",
        target_id=post.id,
        exclude=[actor.id],
    )
    _notify_mentions(group, thread, post, actor, set(named) - {actor.id})
    db.session.commit()
    count_post(actor)
    return thread


def _notify_mentions(group, thread, post, actor, user_ids) -> None:
    if not user_ids:
        return
    muted = set(
        db.session.scalars(
            select(ThreadFollow.user_id).where(
                ThreadFollow.thread_id == thread.id, ThreadFollow.level == "muted"
            )
        )
    )
    notifications.notify(
        user_ids - muted,
        "mention",
        _l("%(name)s mentioned you in “%(thread)s”", name=_author_name(post, actor), thread=thread.title),
        thread_url(thread, post),
        group=group,
        thread=thread,
        target_type="post",
        target_id=post.id,
        exclude=[actor.id],
    )


def _follow_level(user_id: int, thread: Thread) -> str | None:
    return db.session.scalar(
        select(ThreadFollow.level).where(
            ThreadFollow.user_id == user_id, ThreadFollow.thread_id == thread.id
        )
    )


def reply(
    actor, thread: Thread, body: str, *, quote: Post | None = None, anonymous=False, segment_id=None
) -> Post:
    group = thread.group
    if not policy.can_post_in_group(actor, group):
        raise Forbidden(_("Only members of this group can post here."))
    if thread.locked:
        if thread.lock_reason:
            raise Conflict(
                _(
                    "This thread is locked: %(reason)s. It takes no new posts.",
                    reason=thread.lock_reason,
                )
            )
        raise Conflict(_("This thread is locked. It takes no new posts."))
    body = _clean_body(body)
    if anonymous and not group.allow_anonymous:
        raise DomainError(_("This group does not allow anonymous posts."))
    if quote is not None and (quote.thread_id != thread.id or not policy.can_read_post(actor, quote)):
        raise DomainError(_("You can quote only posts of this thread."))
    segment = None
    if segment_id:
        from coprod_study.catalog.transcript import segment_for_episode

        if thread.episode_id is None:
            raise DomainError(_("This thread is not about an episode, so it cannot quote a moment."))
        segment = segment_for_episode(thread.episode_id, segment_id)
    check_post_rate(actor)
    named = mentions.mentioned_members(group, body)
    post = Post(
        thread_id=thread.id,
        segment_id=getattr(segment, "id", None),
        user_id=actor.id,
        body=body,
        body_html=mentions.render(group, body, named),
        anonymous=anonymous,
        quote_post_id=getattr(quote, "id", None),
    )
    db.session.add(post)
    thread.last_activity_at = _now()
    db.session.flush()
    if _follow_level(actor.id, thread) is None:
        db.session.add(ThreadFollow(user_id=actor.id, thread_id=thread.id, level="watching"))
    _mark_read_in_session(actor.id, thread.id, post.id)

    name = _author_name(post, actor)
    active = set(_active_member_ids(group))
    mentioned = set(named) - {actor.id}
    quoted_author = (
        ({quote.user_id} & active) - {actor.id}
        if quote is not None and quote.hidden_at is None
        else set()
    )
    follows = dict(
        db.session.execute(
            select(ThreadFollow.user_id, ThreadFollow.level)
            .join(
                Membership,
                and_(Membership.user_id == ThreadFollow.user_id, Membership.group_id == group.id),
            )
            .where(ThreadFollow.thread_id == thread.id, Membership.status == "active")
        ).all()
    )
    watchers = {uid for uid, level in follows.items() if level == "watching"} & active
    not_muted = lambda ids: {uid for uid in ids if follows.get(uid) != "muted"}  # noqa: E731
    # One notification per person per post: a mention beats a reply beats "new post".
    mention_ids = not_muted(mentioned)
    reply_ids = not_muted(quoted_author) - mention_ids
    watch_ids = watchers - mention_ids - reply_ids - {actor.id}
    common = {"group": group, "thread": thread, "target_type": "post", "target_id": post.id}
    url = thread_url(thread, post)
    notifications.notify(
        mention_ids, "mention",
        _l("%(name)s mentioned you in “%(thread)s”", name=name, thread=thread.title), url,
        exclude=[actor.id], **common,
    )
    notifications.notify(
        reply_ids, "reply",
        _l("%(name)s replied to your post in “%(thread)s”", name=name, thread=thread.title), url,
        exclude=[actor.id], **common,
    )
    notifications.notify(
        watch_ids, "thread_post",
        _l("%(name)s posted in “%(thread)s”", name=name, thread=thread.title), url,
        exclude=[actor.id], **common,
    )
    db.session.commit()
    count_post(actor)
    return post


def edit_post(actor, post: Post, body: str) -> Post:
    if not policy.can_edit_post(actor, post):
        raise Forbidden(_("You can edit only your own posts in groups you belong to."))
    save_edit(post, _clean_body(body), lambda old, at: PostRevision(post_id=post.id, body=old, written_at=at))
    return post


def delete_post(actor, post: Post) -> None:
    if not policy.can_edit_post(actor, post):
        raise Forbidden(_("You can delete only your own posts in groups you belong to."))
    post.deleted_at = _now()
    notifications.withdraw("post", post.id)
    db.session.commit()


def post_history(post: Post) -> list[PostRevision]:
    return list(
        db.session.scalars(
            select(PostRevision).where(PostRevision.post_id == post.id).order_by(PostRevision.id.desc())
        )
    )


def set_flags(actor, thread: Thread, **changes) -> None:
    """Pin, lock (with a reason) or make an announcement; facilitators only."""
    from coprod_study import audit

    if not policy.can_moderate(actor, thread.group):
        raise Forbidden(_("Only the group's facilitators may do this."))
    was_pinned, was_announcement = thread.pinned, thread.announcement
    for name, value in changes.items():
        if name not in {"pinned", "locked", "lock_reason", "announcement"}:
            raise ValueError(name)
        setattr(thread, name, value)
    # Pinning again what is pinned changes nothing, so nothing is logged.
    if "pinned" in changes and bool(changes["pinned"]) != bool(was_pinned):
        audit.record(
            actor,
            "thread.pinned" if changes["pinned"] else "thread.unpinned",
            target=thread,
            group=thread.group,
            details={"thread": thread.title},
        )
    if changes.get("announcement") and not was_announcement:
        audit.record(
            actor, "thread.announced", target=thread, group=thread.group,
            details={"thread": thread.title},
        )
    if "locked" in changes:
        audit.record(
            actor,
            "thread.locked" if changes["locked"] else "thread.unlocked",
            target=thread,
            group=thread.group,
            details={"thread": thread.title},
            reason=changes.get("lock_reason"),
        )
    if changes.get("announcement"):
        first = db.session.scalar(
            select(Post.id).where(Post.thread_id == thread.id).order_by(Post.id).limit(1)
        )
        notifications.notify(
            _active_member_ids(thread.group),
            "announcement",
            _l("Announcement in %(group)s: %(title)s", group=thread.group.name, title=thread.title),
            thread_url(thread),
            group=thread.group,
            thread=thread,
            target_type="post",
            target_id=first,
            exclude=[actor.id],
        )
    db.session.commit()


def set_follow(user, thread: Thread, level: str) -> None:
    if level not in FOLLOW_LEVELS:
        raise DomainError(_("Choose watching, normal or muted."))
    if not policy.can_view_group(user, thread.group):
        raise Forbidden(_("Only members follow threads."))
    row = db.session.get(ThreadFollow, (user.id, thread.id))
    if row is None:
        db.session.add(ThreadFollow(user_id=user.id, thread_id=thread.id, level=level))
    else:
        row.level = level
    db.session.commit()


def follow_level(user, thread: Thread) -> str:
    if not getattr(user, "is_authenticated", False):
        return "normal"
    return _follow_level(user.id, thread) or "normal"


# --- Reading -------------------------------------------------------------------


@dataclass
class ThreadRow:
    thread: Thread
    posts: int
    unread: int


def thread_list(viewer, group) -> list[ThreadRow]:
    """Pinned first, then by last activity, with post and unread counts (2 queries)."""
    threads = list(
        db.session.scalars(
            select(Thread)
            .options(joinedload(Thread.author), joinedload(Thread.episode))
            .where(Thread.group_id == group.id)
            .order_by(Thread.pinned.desc(), Thread.last_activity_at.desc(), Thread.id.desc())
        )
    )
    if not threads:
        return []
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else -1
    unread_post = and_(
        Post.user_id != viewer_id, Post.id > func.coalesce(ThreadRead.last_post_id, 0)
    )
    counts = {
        thread_id: (total, unread or 0)
        for thread_id, total, unread in db.session.execute(
            select(Post.thread_id, func.count(), func.sum(case((unread_post, 1), else_=0)))
            .outerjoin(
                ThreadRead,
                and_(ThreadRead.thread_id == Post.thread_id, ThreadRead.user_id == viewer_id),
            )
            .where(Post.thread_id.in_([t.id for t in threads]), Post.deleted_at.is_(None))
            .group_by(Post.thread_id)
        )
    }
    if viewer_id == -1:
        counts = {key: (total, 0) for key, (total, _unread) in counts.items()}
    return [ThreadRow(t, *counts.get(t.id, (0, 0))) for t in threads]


def thread_posts(thread: Thread) -> list[Post]:
    return list(
        db.session.scalars(
            select(Post)
            .options(
                selectinload(Post.author),
                selectinload(Post.quoted).selectinload(Post.author),
            )
            .where(Post.thread_id == thread.id)
            .order_by(Post.created_at, Post.id)
        )
    )


def _mark_read_in_session(user_id: int, thread_id: int, post_id: int) -> None:
    row = db.session.get(ThreadRead, (user_id, thread_id))
    if row is None:
        db.session.add(ThreadRead(user_id=user_id, thread_id=thread_id, last_post_id=post_id))
    elif row.last_post_id < post_id:
        row.last_post_id = post_id


def mark_read(user, thread: Thread, last_post_id: int) -> None:
    """Record that `user` has seen the thread up to `last_post_id` (from a page view)."""
    if not getattr(user, "is_authenticated", False) or not last_post_id:
        return
    current = db.session.scalar(
        select(ThreadRead.last_post_id).where(
            ThreadRead.user_id == user.id, ThreadRead.thread_id == thread.id
        )
    )
    if current is not None and current >= last_post_id:
        return
    begin_writing(db.session)
    _mark_read_in_session(user.id, thread.id, last_post_id)
    try:
        db.session.commit()
    except IntegrityError:
        # Two tabs at once: the other one recorded it.
        db.session.rollback()


def episode_choices(group):
    """The episodes a thread of this group can be about: those the group studies."""
    from coprod_study.groups.service import studied_in
    from coprod_study.models import Episode

    return list(
        db.session.execute(
            select(Episode.id, Episode.number, Episode.title)
            .where(studied_in(group))
            .order_by(Episode.number)
        )
    )


def episode_threads(group_ids: list[int], episode_id: int) -> list[Thread]:
    """Open threads about an episode in the given groups (for quoting a moment)."""
    if not group_ids:
        return []
    return list(
        db.session.scalars(
            select(Thread)
            .where(
                Thread.group_id.in_(group_ids),
                Thread.episode_id == episode_id,
                Thread.locked.is_(False),
            )
            .order_by(Thread.last_activity_at.desc())
        )
    )
