"""Replies to answers: listing, posting, reading and editing them."""

from flask import url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.api import bp, serialize
from coprod_study.api import outputs as out
from coprod_study.api.answers import readable_answer
from coprod_study.api.auth import api_user
from coprod_study.api.groups import created, load_group
from coprod_study.api.inputs import Edit, ListQuery, NewAnswer, read_body, read_query
from coprod_study.api.spec import operation
from coprod_study.api.support import ApiError, decode_cursor, page
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.models import Reply


@bp.route("/groups/<slug>/answers/<int:answer_id>/replies")
@operation(
    "Replies to an answer", "groups", query=ListQuery, ok=out.ReplyPage, errors=[403],
    answers="Replies, oldest first.",
)
def replies(slug: str, answer_id: int):
    user = api_user()
    item = load_group(slug)
    target = readable_answer(item, answer_id)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
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


@bp.route("/groups/<slug>/answers/<int:answer_id>/replies", methods=["POST"])
@operation(
    "Reply to an answer", "groups", body=NewAnswer, status=201, ok=out.Reply, errors=[409],
    answers="The reply.",
)
def post_reply(slug: str, answer_id: int):
    user = api_user()
    item = load_group(slug)
    target = readable_answer(item, answer_id)
    data = read_body()
    new = answer_service.post_reply(user, target, data.body, data.anonymous)
    return created(
        serialize.reply(user, item, new), url_for("api.reply", slug=item.slug, reply_id=new.id)
    )


def _readable_reply(group, reply_id: int) -> Reply:
    found = answer_service.get_reply(group, reply_id)
    if not answer_service.can_read_answer(api_user(), found.answer):
        raise ApiError(404, "There is no such reply in this group.")
    return found


@bp.route("/groups/<slug>/replies/<int:reply_id>")
@operation("One reply", "groups", ok=out.Reply, errors=[403], answers="The reply.")
def reply(slug: str, reply_id: int):
    item = load_group(slug)
    return serialize.reply(api_user(), item, _readable_reply(item, reply_id))


@bp.route("/groups/<slug>/replies/<int:reply_id>", methods=["PATCH"])
@operation("Edit your reply", "groups", body=Edit, ok=out.Reply, answers="The edited reply.")
def edit_reply(slug: str, reply_id: int):
    item = load_group(slug)
    target = _readable_reply(item, reply_id)
    data = read_body()
    answer_service.edit_reply(api_user(), target, data.body)
    return serialize.reply(api_user(), item, target)
