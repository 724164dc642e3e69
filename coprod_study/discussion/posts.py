"""Posts in facilitator threads: replying, quoting, who hears of a new post; edits and deletion via the post kernel."""

from datetime import UTC, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select

from coprod_study import policy
from coprod_study.errors import Conflict, DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    ANONYMOUS_LABEL,
    Membership,
    Post,
    PostRevision,
    Thread,
    ThreadFollow,
    ThreadRead,
)
from coprod_study.notifications import service as notifications
from coprod_study.posts import kernel
from coprod_study.urls import path_for


def _now() -> datetime:
    return datetime.now(UTC)


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
    """:raise NotFound: no such post in this group."""
    return kernel.find(group, "post", post_id)


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


def _check_open(thread: Thread) -> None:
    """:raise Conflict: the thread is locked (with the facilitator's reason, if any)."""
    if not thread.locked:
        return
    if thread.lock_reason:
        raise Conflict(
            _("This thread is locked: %(reason)s. It takes no new posts.", reason=thread.lock_reason)
        )
    raise Conflict(_("This thread is locked. It takes no new posts."))


def reply(
    actor, thread: Thread, body: str, *, quote: Post | None = None, anonymous=False, segment_id=None
) -> Post:
    group = thread.group
    body = kernel.prepare(actor, group, body, "post", anonymous=anonymous,
                          checks=lambda: _check_open(thread))
    if quote is not None and (quote.thread_id != thread.id or not policy.can_read_post(actor, quote)):
        raise DomainError(_("You can quote only posts of this thread."))
    segment = None
    if segment_id:
        from coprod_study.catalog.transcript import segment_for_episode

        if thread.episode_id is None:
            raise DomainError(_("This thread is not about an episode, so it cannot quote a moment."))
        segment = segment_for_episode(thread.episode_id, segment_id)
    kernel.check_post_rate(actor)
    named, html = kernel.mark(group, body)
    post = kernel.new(
        "post", actor, body, html, anonymous=anonymous, thread_id=thread.id,
        segment_id=getattr(segment, "id", None), quote_post_id=getattr(quote, "id", None),
    )
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
    kernel.count_post(actor)
    return post


def edit_post(actor, post: Post, body: str) -> Post:
    return kernel.edit(actor, post, body)


def delete_post(actor, post: Post) -> None:
    kernel.delete(actor, post)


def post_history(post: Post) -> list[PostRevision]:
    return kernel.history(post)


def _mark_read_in_session(user_id: int, thread_id: int, post_id: int) -> None:
    row = db.session.get(ThreadRead, (user_id, thread_id))
    if row is None:
        db.session.add(ThreadRead(user_id=user_id, thread_id=thread_id, last_post_id=post_id))
    elif row.last_post_id < post_id:
        row.last_post_id = post_id
