"""A group's threads and their posts."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.api import bp, serialize
from coprod_study.api.auth import api_user
from coprod_study.api.groups import EDIT, INT, NEW_POST, _created, load_group
from coprod_study.api.support import ApiError, decode_cursor, page, query_limit, read_json
from coprod_study.discussion import service as discussion
from coprod_study.errors import NotFound
from coprod_study.extensions import db
from coprod_study.models import Post

# --- Threads and posts ---------------------------------------------------------------

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def _thread_key(row) -> tuple[int, str, int]:
    return (1 if row.thread.pinned else 0, row.thread.last_activity_at.strftime(STAMP), row.thread.id)


@bp.route("/groups/<slug>/threads")
def threads(slug: str):
    user = api_user()
    item = load_group(slug)
    limit = query_limit()
    after = decode_cursor(int, str, int)
    # Pinned first, then the most recently active, as on the group page.
    rows = discussion.thread_list(user, item)
    if after is not None:
        rows = [r for r in rows if _thread_key(r) < after]
    return page(rows[: limit + 1], limit, _thread_key, lambda r: serialize.thread(r, user))


def _thread(group, thread_id: int):
    try:
        return discussion.get_thread(group, thread_id)
    except NotFound as error:
        raise ApiError(404, error.message) from error


@bp.route(f"/groups/<slug>/threads/<{INT}:thread_id>")
def thread(slug: str, thread_id: int):
    user = api_user()
    item = load_group(slug)
    target = _thread(item, thread_id)
    row = next(r for r in discussion.thread_list(user, item) if r.thread.id == target.id)
    return serialize.thread(row, user)


@bp.route(f"/groups/<slug>/threads/<{INT}:thread_id>/posts")
def thread_posts(slug: str, thread_id: int):
    user = api_user()
    item = load_group(slug)
    target = _thread(item, thread_id)
    limit = query_limit()
    after = decode_cursor(int)
    stmt = (
        select(Post)
        .options(selectinload(Post.author))
        .where(Post.thread_id == target.id)
        .order_by(Post.id)
    )
    if after is not None:
        stmt = stmt.where(Post.id > after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return page(rows, limit, lambda p: (p.id,), lambda p: serialize.post(user, item, p))


@bp.route(f"/groups/<slug>/threads/<{INT}:thread_id>/posts", methods=["POST"])
def post_in_thread(slug: str, thread_id: int):
    user = api_user()
    item = load_group(slug)
    target = _thread(item, thread_id)
    data = read_json(NEW_POST)
    quote = None
    if "quote_post_id" in data:
        quote = db.session.get(Post, data["quote_post_id"])
        if quote is None or quote.thread_id != target.id:
            raise ApiError(
                422,
                "You can quote only posts of this thread.",
                [{"field": "quote_post_id", "message": "is not a post of this thread"}],
            )
    created = discussion.reply(
        user, target, data["body"], quote=quote, anonymous=bool(data.get("anonymous", False))
    )
    return _created(
        serialize.post(user, item, created),
        url_for("api.post", slug=item.slug, post_id=created.id),
    )


def _post(group, post_id: int) -> Post:
    try:
        return discussion.get_post(group, post_id)
    except NotFound as error:
        raise ApiError(404, error.message) from error


@bp.route(f"/groups/<slug>/posts/<{INT}:post_id>")
def post(slug: str, post_id: int):
    item = load_group(slug)
    return serialize.post(api_user(), item, _post(item, post_id))


@bp.route(f"/groups/<slug>/posts/<{INT}:post_id>", methods=["PATCH"])
def edit_post(slug: str, post_id: int):
    item = load_group(slug)
    target = _post(item, post_id)
    data = read_json(EDIT)
    discussion.edit_post(api_user(), target, data["body"])
    return serialize.post(api_user(), item, target)
