"""A group's threads and their posts."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.api import bp, serialize
from coprod_study.api import outputs as out
from coprod_study.api.auth import api_user
from coprod_study.api.groups import created, load_group
from coprod_study.api.inputs import Edit, ListQuery, NewPost, read_body, read_query
from coprod_study.api.spec import operation
from coprod_study.api.support import ApiError, decode_cursor, page
from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.models import Post

STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


def _thread_key(row) -> tuple[int, str, int]:
    return (1 if row.thread.pinned else 0, row.thread.last_activity_at.strftime(STAMP), row.thread.id)


@bp.route("/groups/<slug>/threads")
@operation(
    "A group's threads", "groups", query=ListQuery, ok=out.ThreadPage, errors=[403],
    answers="Pinned threads first, then by last activity.",
)
def threads(slug: str):
    user = api_user()
    item = load_group(slug)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int, str, int)
    # Pinned first, then the most recently active, as on the group page.
    rows = discussion.thread_list(user, item)
    if after is not None:
        rows = [r for r in rows if _thread_key(r) < after]
    return page(rows[: limit + 1], limit, _thread_key, lambda r: serialize.thread(r, user))


@bp.route("/groups/<slug>/threads/<int:thread_id>")
@operation("One thread", "groups", ok=out.Thread, errors=[403], answers="The thread.")
def thread(slug: str, thread_id: int):
    user = api_user()
    item = load_group(slug)
    target = discussion.get_thread(item, thread_id)
    row = next(r for r in discussion.thread_list(user, item) if r.thread.id == target.id)
    return serialize.thread(row, user)


@bp.route("/groups/<slug>/threads/<int:thread_id>/posts")
@operation(
    "A thread's posts", "groups", query=ListQuery, ok=out.PostPage, errors=[403],
    answers="Posts, oldest first; the first one opens the thread.",
)
def thread_posts(slug: str, thread_id: int):
    user = api_user()
    item = load_group(slug)
    target = discussion.get_thread(item, thread_id)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
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


def _quoted(thread, post_id: int | None) -> Post | None:
    if post_id is None:
        return None
    quote = db.session.get(Post, post_id)
    if quote is None or quote.thread_id != thread.id:
        raise ApiError(
            422,
            "You can quote only posts of this thread.",
            [{"field": "quote_post_id", "message": "is not a post of this thread"}],
        )
    return quote


@bp.route("/groups/<slug>/threads/<int:thread_id>/posts", methods=["POST"])
@operation(
    "Post in a thread", "groups", body=NewPost, status=201, ok=out.Post, errors=[409],
    answers="The post.",
)
def post_in_thread(slug: str, thread_id: int):
    user = api_user()
    item = load_group(slug)
    target = discussion.get_thread(item, thread_id)
    data = read_body()
    quote = _quoted(target, data.quote_post_id)
    new = discussion.reply(user, target, data.body, quote=quote, anonymous=data.anonymous)
    return created(
        serialize.post(user, item, new), url_for("api.post", slug=item.slug, post_id=new.id)
    )


@bp.route("/groups/<slug>/posts/<int:post_id>")
@operation("One thread post", "groups", ok=out.Post, errors=[403], answers="The post.")
def post(slug: str, post_id: int):
    item = load_group(slug)
    return serialize.post(api_user(), item, discussion.get_post(item, post_id))


@bp.route("/groups/<slug>/posts/<int:post_id>", methods=["PATCH"])
@operation("Edit your post", "groups", body=Edit, ok=out.Post, answers="The edited post.")
def edit_post(slug: str, post_id: int):
    item = load_group(slug)
    target = discussion.get_post(item, post_id)
    data = read_body()
    discussion.edit_post(api_user(), target, data.body)
    return serialize.post(api_user(), item, target)
