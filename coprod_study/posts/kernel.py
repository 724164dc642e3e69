"""One implementation for every kind of post: write, edit with history, delete, hide, restore, flag.

Each kind (posts.kinds) adds its model, its history rows and its words; the rules
and the writes are here once. Services commit once per operation, so each
function that changes a post commits too.
"""

from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit, policy
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited
from coprod_study.extensions import db
from coprod_study.models import FLAG_REASONS, Answer, Flag, Reply
from coprod_study.notifications import service as notifications
from coprod_study.posts import mentions
from coprod_study.posts.kinds import kind, kind_of

MAX_REASON = 1_000


def now() -> datetime:
    return datetime.now(UTC)


# --- Writing --------------------------------------------------------------------


def clean_body(body: str) -> str:
    """The text as stored: trimmed, not too long, not empty.

    :raise DomainError: on the body field.
    """
    from coprod_study.groups.service import check_markdown

    body = check_markdown(body, "body")
    if not body:
        raise DomainError(_("Write something before you post."), field="body")
    return body


def render(group, body: str, named: dict[int, str] | None = None) -> str:
    """A post's stored HTML: its Markdown, with the group's members it mentions marked."""
    return mentions.render(group, body, named)


def prepare(actor, group, body: str, kind_name: str, *, anonymous: bool = False,
            checks=None) -> str:
    """What every new post of any kind passes, in this order: the actor is a member,
    `checks()` (what the kind adds), the text is fit, anonymity is allowed.
    Returns the clean text.

    :raise Forbidden: not a member.  :raise DomainError: the text or anonymity.
    """
    if not policy.can_post_in_group(actor, group):
        raise Forbidden(_("Only members of this group can post here."))
    if checks is not None:
        checks()
    body = clean_body(body)
    check_anonymous(group, anonymous, str(kind(kind_name).no_anonymous))
    return body


def mark(group, body: str) -> tuple[dict[int, str], str]:
    """The members a new post mentions (id -> name) and its HTML with them marked."""
    named = mentions.mentioned_members(group, body)
    return named, render(group, body, named)


def new(kind_name: str, author, body: str, html: str, *, anonymous: bool = False, **own):
    """A new post of this kind in the session; `own` holds the fields that are the kind's own."""
    post = kind(kind_name).model(user_id=author.id, body=body, body_html=html,
                                 anonymous=anonymous, **own)
    db.session.add(post)
    return post


def check_anonymous(group, anonymous: bool, message: str) -> None:
    if anonymous and not group.allow_anonymous:
        raise DomainError(message)


def check_post_rate(user) -> None:
    """:raise RateLimited: the person is posting faster than POST_LIMIT allows."""
    from coprod_study import throttle

    limit = current_app.config["POST_LIMIT"]
    wait = throttle.retry_after(limit, f"post:{user.id}")
    if wait:
        raise RateLimited(
            _("You are posting very fast. Please wait %(wait)s seconds and try again.", wait=wait), wait
        )


def count_post(user) -> None:
    from coprod_study import throttle

    throttle.hit(current_app.config["POST_LIMIT"], f"post:{user.id}")


def edit(actor, post, body: str):
    """Keep the old text as a revision and store the new one (nothing when it is the same).

    :raise Forbidden: not the author, not a member any more, or the post is hidden or deleted.
    """
    if not policy.can_edit_post(actor, post):
        raise Forbidden(str(kind_of(post).cannot_edit))
    save_edit(post, clean_body(body))
    return post


def save_edit(post, body: str) -> bool:
    """Store `body` as the post's text, the old one in its history; commit. Changed?"""
    if body == post.body:
        return False
    db.session.add(kind_of(post).revision(post, post.body, post.edited_at or post.created_at))
    post.body = body
    post.body_html = render(policy.group_of(post), body)
    post.edited_at = now()
    db.session.commit()
    return True


def delete(actor, post) -> None:
    """The author takes their post back. The row stays (see still_shown_clause).

    :raise Forbidden: as for edit.
    """
    if not policy.can_edit_post(actor, post):
        raise Forbidden(str(kind_of(post).cannot_delete))
    post.deleted_at = now()
    kind_of(post).on_delete(post)
    db.session.commit()


def history(post) -> list:
    """The post's earlier texts, newest first."""
    return list(db.session.scalars(kind_of(post).history_stmt(post)))


# --- A deleted answer is kept while replies live ----------------------------------------


def live_replies(answer) -> list:
    """The replies under an answer that still show (deleted ones do not)."""
    return [reply for reply in answer.replies if reply.deleted_at is None]


def live_reply_exists():
    """SQL: the answer of the outer query has a reply that is not deleted."""
    return exists().where(Reply.answer_id == Answer.id, Reply.deleted_at.is_(None))


def still_shown_clause():
    """SQL for a select of answers: a deleted answer keeps its place (as a placeholder)
    while replies live under it; one with none left has nothing to show."""
    return Answer.deleted_at.is_(None) | live_reply_exists()


# --- Hiding, restoring and flags ---------------------------------------------------------


def check_reason(reason: str, *, required: bool, message: str, too_long: str,
                 field: str = "reason") -> str:
    """A moderator's or reporter's words, trimmed; at most MAX_REASON characters."""
    reason = (reason or "").strip()
    if required and not reason:
        raise DomainError(message, field=field)
    if len(reason) > MAX_REASON:
        raise DomainError(too_long, field=field)
    return reason


def tell_author(group, post, reason: str, exclude=()) -> None:
    """The author of a hidden post hears of it, with the reason, while they are a member."""
    author = post.author
    if author is None or author.deleted_at is not None or not policy.is_member(author, group):
        return
    notifications.notify(
        [author.id],
        "moderation",
        kind_of(post).hidden(group, reason),
        kind_of(post).read_url(group, post),
        group=group,
        thread=getattr(post, "thread", None),
        exclude=exclude,
    )


def _hide(group, post, reason: str, exclude=()) -> None:
    post.hidden_at = now()
    post.hidden_reason = reason
    notifications.withdraw(kind_of(post).name, post.id)
    tell_author(group, post, reason, exclude=exclude)


def hide(actor, group, post, reason: str) -> None:
    """A facilitator hides a post, with a reason its author sees; its open flags are settled."""
    reason = check_reason(
        reason, required=True, message=_("Give a reason; the author will see it."),
        too_long=_("Keep the reason under %(max)s characters.", max=MAX_REASON),
    )
    target_type = kind_of(post).name
    resolve_flags(actor, post, "hidden")
    _hide(group, post, reason, exclude=[actor.id])
    audit.record(actor, f"{target_type}.hidden", subject=post.author, target=post, group=group,
                 reason=reason)
    db.session.commit()


def restore(actor, group, post) -> None:
    """:raise Conflict: the post is not hidden."""
    if post.hidden_at is None:
        raise Conflict(_("This post is not hidden."))
    post.hidden_at = None
    post.hidden_reason = None
    resolve_flags(actor, post, "restored")
    target_type = kind_of(post).name
    audit.record(actor, f"{target_type}.restored", subject=post.author, target=post,
                 group=group)
    db.session.commit()


def resolve_flags(actor, post, resolution: str) -> int:
    flags = db.session.scalars(
        select(Flag).where(
            Flag.target_type == kind_of(post).name, Flag.target_id == post.id,
            Flag.resolved_at.is_(None),
        )
    ).all()
    for item in flags:
        item.resolved_at = now()
        item.resolved_by_id = actor.id
        item.resolution = resolution
    return len(flags)


def flag(reporter, group, post, reason: str, text: str = "", *, facilitator_url: str) -> Flag:
    """A member asks the facilitators to look at a post; enough flags hide it at once.

    :raise DomainError: their own post, or no reason.  :raise Forbidden: not a member.
    :raise Conflict: they flagged it before.
    """
    target_type = kind_of(post).name
    if post.user_id == reporter.id:
        raise DomainError(_("You cannot flag your own post."))
    if not policy.can_flag(reporter, post):
        raise Forbidden(_("Only members of this group can flag its posts."))
    if reason not in FLAG_REASONS:
        raise DomainError(_("Choose a reason."), field="reason")
    text = check_reason(
        text, required=reason == "other", message=_("Say briefly what is wrong."),
        too_long=_("Keep it under %(max)s characters.", max=MAX_REASON), field="text",
    )
    item = Flag(group_id=group.id, reporter_id=reporter.id, target_type=target_type,
                target_id=post.id, reason=reason, text=text or None)
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(_("You have already flagged this post.")) from error
    open_flags = db.session.scalar(
        select(func.count(func.distinct(Flag.reporter_id))).where(
            Flag.target_type == target_type, Flag.target_id == post.id, Flag.resolved_at.is_(None)
        )
    )
    threshold = current_app.config.get("FLAG_HIDE_THRESHOLD", 3)
    if post.hidden_at is None and threshold and open_flags >= threshold:
        # Stored text, like a facilitator's reason: kept in English (see README, Translations).
        _hide(group, post, f"Hidden automatically after {open_flags} flags; awaiting review.")
        audit.record(
            None, f"{target_type}.auto_hidden", subject=post.author, target=post,
            group=group, details={"flags": open_flags}, reason=post.hidden_reason,
        )
    notifications.notify(
        policy.moderator_ids(group), "flag", kind_of(post).flagged(group, FLAG_REASONS[reason]),
        facilitator_url, group=group, exclude=[reporter.id],
    )
    db.session.commit()
    return item


def get(group, kind_name: str, post_id: int):
    """The post of this kind in `group`, or None."""
    found = kind(kind_name)
    post = db.session.get(found.model, post_id) if found else None
    if post is None or policy.group_of(post).id != group.id:
        return None
    return post


def find(group, kind_name: str, post_id: int):
    """:raise NotFound: no post of this kind with this id in `group` (in the kind's words)."""
    post = get(group, kind_name, post_id)
    if post is None:
        raise NotFound(str(kind(kind_name).not_found))
    return post
