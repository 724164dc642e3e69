"""Replies to answers: listing, posting, reading and editing them."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.api import bp, serialize
from coprod_study.api.answers import _readable_answer
from coprod_study.api.auth import api_user
from coprod_study.api.groups import EDIT, INT, NEW_ANSWER, _created, load_group
from coprod_study.api.support import ApiError, decode_cursor, page, query_limit, read_json
from coprod_study.errors import NotFound
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.models import Reply

# --- Replies -------------------------------------------------------------------------


@bp.route(f"/groups/<slug>/answers/<{INT}:answer_id>/replies")
def replies(slug: str, answer_id: int):
    user = api_user()
    item = load_group(slug)
    target = _readable_answer(item, answer_id)
    limit = query_limit()
    after = decode_cursor(int)
    stmt = (
        select(Reply)
        .options(selectinload(Reply.author))
        .where(Reply.answer_id == target.id, Reply.deleted_at.is_(None))
        .order_by(Reply.id)
    )
    if after is not None:
        stmt = stmt.where(Reply.id > after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return page(rows, limit, lambda r: (r.id,), lambda r: serialize.reply(user, item, r))


@bp.route(f"/groups/<slug>/answers/<{INT}:answer_id>/replies", methods=["POST"])
def post_reply(slug: str, answer_id: int):
    user = api_user()
    item = load_group(slug)
    target = _readable_answer(item, answer_id)
    data = read_json(NEW_ANSWER)
    created = answer_service.post_reply(
        user, target, data["body"], bool(data.get("anonymous", False))
    )
    return _created(
        serialize.reply(user, item, created),
        url_for("api.reply", slug=item.slug, reply_id=created.id),
    )


def _readable_reply(group, reply_id: int) -> Reply:
    try:
        found = answer_service.get_reply(group, reply_id)
    except NotFound as error:
        raise ApiError(404, error.message) from error
    if not answer_service.can_read_answer(api_user(), found.answer):
        raise ApiError(404, "There is no such reply in this group.")
    return found


@bp.route(f"/groups/<slug>/replies/<{INT}:reply_id>")
def reply(slug: str, reply_id: int):
    item = load_group(slug)
    return serialize.reply(api_user(), item, _readable_reply(item, reply_id))


@bp.route(f"/groups/<slug>/replies/<{INT}:reply_id>", methods=["PATCH"])
def edit_reply(slug: str, reply_id: int):
    item = load_group(slug)
    target = _readable_reply(item, reply_id)
    data = read_json(EDIT)
    answer_service.edit_reply(api_user(), target, data["body"])
    return serialize.reply(api_user(), item, target)
