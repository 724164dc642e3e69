"""Groups, their questions and answers, replies, threads and posts, for the token's owner.

Every lookup asks the same policy functions as the HTML pages: a group the
caller may not know of is 404, content of a group the caller may not read is
403, and answers go through policy.visible_answers.
"""

from flask import url_for
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from coprod_study import policy
from coprod_study.api import bp, serialize
from coprod_study.api.auth import api_user
from coprod_study.api.catalog import check_slug
from coprod_study.api.support import MAX_ID, ApiError, decode_cursor, page, query_limit, read_json
from coprod_study.discussion import service as discussion
from coprod_study.errors import NotFound
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.groups import service as group_service
from coprod_study.markup import MAX_MARKDOWN_LENGTH
from coprod_study.models import (
    Answer,
    Episode,
    GroupQuestion,
    Membership,
    Post,
    Reply,
    Revision,
    StudyGroup,
    StudyQuestion,
)

INT = "int"
# Some text that is not only white space, and no NUL (no database stores one).
TEXT_PATTERN = r"^[^\u0000]*[^\s\u0000][^\u0000]*$"
BODY = {
    "type": "string",
    "minLength": 1,
    "maxLength": MAX_MARKDOWN_LENGTH,
    "pattern": TEXT_PATTERN,
    "description": "Markdown, as on the site.",
}
NEW_ANSWER = {
    "type": "object",
    "additionalProperties": False,
    "required": ["body"],
    "properties": {
        "body": BODY,
        "anonymous": {
            "type": "boolean",
            "description": "Anonymous to peers (only where the group allows it).",
        },
    },
}
NEW_POST = {
    "type": "object",
    "additionalProperties": False,
    "required": ["body"],
    "properties": {
        **NEW_ANSWER["properties"],
        "quote_post_id": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_ID,
            "description": "A post of the same thread to quote.",
        },
    },
}
EDIT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["body"],
    "properties": {"body": BODY},
}


def load_group(slug: str, *, content: bool = True) -> StudyGroup:
    """The group at `slug`, as the pages decide.

    :raise ApiError: 404 no such group or one the caller may not know of; 403 the
        caller may know it but not read its content.
    """
    check_slug(slug, "group")
    group = db.session.scalar(select(StudyGroup).where(StudyGroup.slug == slug))
    user = api_user()
    if group is None or not policy.can_know_group(user, group):
        raise ApiError(404, "There is no such group.")
    if content and not policy.can_view_group(user, group):
        raise ApiError(403, "Only the group's members see its content; join it first.")
    return group


def _created(body: dict, location: str):
    return body, 201, {"Location": location}


# --- Groups ------------------------------------------------------------------------


def _group_json(group, membership, member_count: int | None = None) -> dict:
    user = api_user()
    data = {
        "slug": group.slug,
        "name": group.name,
        "description": group.description,
        "description_html": group.description_html,
        "join_policy": group.join_policy,
        "post_first": group.post_first,
        "allow_anonymous": group.allow_anonymous,
        "course": None,
        "membership": serialize.membership(membership),
        "can_view_content": policy.can_view_group(user, group),
        "can_moderate": policy.can_moderate(user, group),
    }
    if group.course_id is not None:
        from coprod_study.models import Course

        data["course"] = db.session.get(Course, group.course_id).code
    if member_count is not None:
        data["member_count"] = member_count
    return data


@bp.route("/groups")
def my_groups():
    user = api_user()
    limit = query_limit()
    after = decode_cursor(int)
    stmt = (
        select(StudyGroup, Membership)
        .join(Membership, Membership.group_id == StudyGroup.id)
        .where(Membership.user_id == user.id, Membership.status.in_(policy.INSIDE_STATUSES))
        .order_by(StudyGroup.id)
    )
    if after is not None:
        stmt = stmt.where(StudyGroup.id > after[0])
    rows = db.session.execute(stmt.limit(limit + 1)).all()
    return page(rows, limit, lambda r: (r[0].id,), lambda r: _group_json(r[0], r[1]))


@bp.route("/groups/<slug>")
def group(slug: str):
    item = load_group(slug, content=False)
    count = group_service.member_counts([item.id]).get(item.id, 0)
    return _group_json(item, policy.membership(api_user(), item), count)


@bp.route("/groups/<slug>/members")
def group_members(slug: str):
    item = load_group(slug)
    limit = query_limit()
    after = decode_cursor(int)
    stmt = (
        select(Membership)
        .options(selectinload(Membership.user))
        .where(Membership.group_id == item.id, Membership.status == "active")
        .order_by(Membership.id)
    )
    if after is not None:
        stmt = stmt.where(Membership.id > after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return page(
        rows,
        limit,
        lambda m: (m.id,),
        lambda m: {
            "id": m.user.id,
            "name": m.user.display_name,
            "role": m.role,
            "joined_at": serialize.when(m.created_at),
        },
    )


# --- Questions and answers -----------------------------------------------------------


def _episode(group, slug: str) -> Episode:
    check_slug(slug)
    try:
        return group_service.get_group_episode(group, slug)
    except NotFound as error:
        raise ApiError(404, error.message) from error


def _question(group, episode_slug: str, number: int):
    item = _episode(group, episode_slug)
    try:
        return item, group_service.get_question(group, item, number)
    except NotFound as error:
        raise ApiError(404, error.message) from error


@bp.route("/groups/<slug>/episodes/<episode_slug>/questions")
def group_questions(slug: str, episode_slug: str):
    item = load_group(slug)
    episode = _episode(item, episode_slug)
    limit = query_limit()
    after = decode_cursor(int)
    questions = group_service.questions_for(
        episode, group_service.extra_questions(item, [episode.id])
    )
    counts, answered = answer_service.answer_summary(api_user(), item)
    if after is not None:
        questions = [q for q in questions if q.number > after[0]]
    result = page(
        questions[: limit + 1],
        limit,
        lambda q: (q.number,),
        lambda q: {
            "number": q.number,
            "prompt": q.prompt,
            "audiences": list(q.audiences),
            "group_question": q.is_extra,
            "answer_count": counts.get(q.key, 0),
            "answered_by_you": q.key in answered,
        },
    )
    result["episode"] = {"slug": episode.slug, "number": episode.number, "title": episode.title}
    return result


def _of_question(model, question):
    if question.study_question_id is not None:
        return model.study_question_id == question.study_question_id
    return model.group_question_id == question.group_question_id


def _live_reply_counts(answer_ids: list[int]) -> dict[int, int]:
    if not answer_ids:
        return {}
    rows = db.session.execute(
        select(Reply.answer_id, func.count())
        .where(Reply.answer_id.in_(answer_ids), Reply.deleted_at.is_(None))
        .group_by(Reply.answer_id)
    )
    return dict(rows.all())


@bp.route(f"/groups/<slug>/episodes/<episode_slug>/questions/<{INT}:number>/answers")
def question_answers(slug: str, episode_slug: str, number: int):
    user = api_user()
    item = load_group(slug)
    episode, question = _question(item, episode_slug, number)
    limit = query_limit()
    after = decode_cursor(int)
    state = answer_service.page_state(user, item, question)
    has_answered, revealed = state.has_answered, state.revealed
    live_reply = exists().where(Reply.answer_id == Answer.id, Reply.deleted_at.is_(None))
    stmt = (
        policy.visible_answers(
            select(Answer), user, item, has_answered=has_answered, revealed=revealed
        )
        .where(_of_question(Answer, question))
        # As on the page: a deleted answer shows only while replies remain under it.
        .where(Answer.deleted_at.is_(None) | live_reply)
        .options(selectinload(Answer.author))
        .order_by(Answer.id)
    )
    if after is not None:
        stmt = stmt.where(Answer.id > after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    replies = _live_reply_counts([a.id for a in rows])
    total = db.session.scalar(
        select(func.count()).where(
            Answer.group_id == item.id, _of_question(Answer, question), Answer.deleted_at.is_(None)
        )
    )
    result = page(
        rows,
        limit,
        lambda a: (a.id,),
        lambda a: serialize.answer(
            user,
            item,
            a,
            episode_slug=episode.slug,
            number=question.number,
            prompt=question.prompt,
            reply_count=replies.get(a.id, 0),
        ),
    )
    result["question"] = {"number": question.number, "prompt": question.prompt}
    result["answer_count"] = total or 0
    result["sees_peers"] = policy.can_see_peer_answers(
        user, item, has_answered=has_answered, revealed=revealed
    )
    result["revealed"] = revealed
    return result


@bp.route(
    f"/groups/<slug>/episodes/<episode_slug>/questions/<{INT}:number>/answers", methods=["POST"]
)
def post_answer(slug: str, episode_slug: str, number: int):
    user = api_user()
    item = load_group(slug)
    episode, question = _question(item, episode_slug, number)
    data = read_json(NEW_ANSWER)
    answer = answer_service.post_answer(
        user, item, question, data["body"], bool(data.get("anonymous", False))
    )
    body = serialize.answer(
        user, item, answer, episode_slug=episode.slug, number=question.number,
        prompt=question.prompt, reply_count=0,
    )
    return _created(body, url_for("api.answer", slug=item.slug, answer_id=answer.id))


def _question_of(group, answer) -> tuple[str, int, str]:
    """(episode slug, question number, prompt) of the question an answer answers."""
    if answer.study_question_id is not None:
        episode_id = db.session.get(StudyQuestion, answer.study_question_id).episode_id
    else:
        episode_id = db.session.get(GroupQuestion, answer.group_question_id).episode_id
    episode = db.session.get(Episode, episode_id)
    for question in group_service.questions_for(
        episode, group_service.extra_questions(group, [episode.id])
    ):
        if (question.study_question_id, question.group_question_id) == (
            answer.study_question_id,
            answer.group_question_id,
        ):
            return episode.slug, question.number, question.prompt
    raise ApiError(404, "There is no such answer in this group.")


def _readable_answer(group, answer_id: int) -> Answer:
    try:
        answer = answer_service.get_answer(group, answer_id)
    except NotFound as error:
        raise ApiError(404, error.message) from error
    if not answer_service.can_read_answer(api_user(), answer):
        raise ApiError(404, "There is no such answer in this group.")
    return answer


def _answer_json(group, answer) -> dict:
    episode_slug, number, prompt = _question_of(group, answer)
    return serialize.answer(
        api_user(), group, answer, episode_slug=episode_slug, number=number, prompt=prompt,
        reply_count=_live_reply_counts([answer.id]).get(answer.id, 0),
    )


@bp.route(f"/groups/<slug>/answers/<{INT}:answer_id>")
def answer(slug: str, answer_id: int):
    item = load_group(slug)
    return _answer_json(item, _readable_answer(item, answer_id))


@bp.route(f"/groups/<slug>/answers/<{INT}:answer_id>", methods=["PATCH"])
def edit_answer(slug: str, answer_id: int):
    item = load_group(slug)
    target = _readable_answer(item, answer_id)
    data = read_json(EDIT)
    answer_service.edit_answer(api_user(), target, data["body"])
    return _answer_json(item, target)


@bp.route(f"/groups/<slug>/answers/<{INT}:answer_id>/revisions")
def answer_revisions(slug: str, answer_id: int):
    item = load_group(slug)
    viewer = api_user()
    if not policy.can_see_history(viewer, item):
        own = db.session.get(Answer, answer_id) if answer_id <= MAX_ID else None
        if own is None or own.group_id != item.id or not policy.can_see_history(viewer, item, own):
            raise ApiError(403, "Only the author and the group's facilitators see edit history.")
    target = _readable_answer(item, answer_id)
    limit = query_limit()
    after = decode_cursor(int)
    stmt = select(Revision).where(Revision.answer_id == target.id).order_by(Revision.id.desc())
    if after is not None:
        stmt = stmt.where(Revision.id < after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return page(
        rows,
        limit,
        lambda r: (r.id,),
        lambda r: {
            "id": r.id,
            "body": r.body,
            "written_at": serialize.when(r.written_at),
            "replaced_at": serialize.when(r.replaced_at),
        },
    )


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

