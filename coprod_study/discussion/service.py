"""Facilitator threads: starting them, following, read marks, pins and locks.

Their posts (replying, quoting, edits) are in discussion.posts, over the post kernel;
the names the views and the API call stay here.
"""

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
from coprod_study.discussion.posts import (  # noqa: F401  (their interface, kept here)
    _active_member_ids,
    _follow_level,
    _mark_read_in_session,
    _notify_mentions,
    delete_post,
    edit_post,
    get_post,
    get_thread,
    post_history,
    reply,
    thread_url,
)
from coprod_study.errors import DomainError, Forbidden
from coprod_study.extensions import db
from coprod_study.models import (
    FOLLOW_LEVELS,
    Post,
    Thread,
    ThreadFollow,
    ThreadRead,
)
from coprod_study.notifications import service as notifications
from coprod_study.posts import kernel

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
    body = kernel.clean_body(body)
    seconds = parse_moment(moment)
    if seconds is not None and episode is None:
        raise DomainError(_("Choose the episode the moment belongs to."), field="moment")
    if seconds is not None and episode.duration_seconds and seconds > episode.duration_seconds:
        raise DomainError(_("That moment is after the end of the episode."), field="moment")
    kernel.check_post_rate(actor)
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
    named, html = kernel.mark(group, body)
    post = kernel.new("post", actor, body, html, thread_id=thread.id)
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
    kernel.count_post(actor)
    return thread


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
