"""An episode's questions in a group, the answers to them and their edit history."""

from flask import url_for
from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from coprod_study import policy
from coprod_study.api import bp, serialize
from coprod_study.api import outputs as out
from coprod_study.api.auth import api_user
from coprod_study.api.groups import created, load_group
from coprod_study.api.inputs import Edit, ListQuery, NewAnswer, check_slug, read_body, read_query
from coprod_study.api.spec import operation
from coprod_study.api.support import MAX_ID, ApiError, decode_cursor, page
from coprod_study.extensions import db
from coprod_study.groups import answers as answer_service
from coprod_study.groups import service as group_service
from coprod_study.models import Answer, Episode, GroupQuestion, Reply, Revision, StudyQuestion

# --- Questions and answers -----------------------------------------------------------


def _episode(group, slug: str) -> Episode:
    check_slug(slug)
    return group_service.get_group_episode(group, slug)


def _question(group, episode_slug: str, number: int):
    item = _episode(group, episode_slug)
    return item, group_service.get_question(group, item, number)


@bp.route("/groups/<slug>/episodes/<episode_slug>/questions")
@operation(
    "An episode's questions in a group", "groups", query=ListQuery, ok=out.QuestionPage,
    errors=[403], answers="The catalog's questions, then the group's own.",
)
def group_questions(slug: str, episode_slug: str):
    item = load_group(slug)
    episode = _episode(item, episode_slug)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
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


def _visible_answers(user, group, question, state):
    live_reply = exists().where(Reply.answer_id == Answer.id, Reply.deleted_at.is_(None))
    return (
        policy.visible_answers(
            select(Answer), user, group, has_answered=state.has_answered, revealed=state.revealed
        )
        .where(_of_question(Answer, question))
        # As on the page: a deleted answer shows only while replies remain under it.
        .where(Answer.deleted_at.is_(None) | live_reply)
        .options(selectinload(Answer.author))
        .order_by(Answer.id)
    )


def _answer_count(group, question) -> int:
    return db.session.scalar(
        select(func.count()).where(
            Answer.group_id == group.id, _of_question(Answer, question), Answer.deleted_at.is_(None)
        )
    ) or 0


@bp.route("/groups/<slug>/episodes/<episode_slug>/questions/<int:number>/answers")
@operation(
    "The answers to a question the caller may read", "groups", query=ListQuery,
    ok=out.AnswerPage, errors=[403], answers="Answers in the order they were written.",
    description="With “post before you see others” on, peers' answers appear "
    "once the caller has answered (facilitators always see them).",
)
def question_answers(slug: str, episode_slug: str, number: int):
    user = api_user()
    item = load_group(slug)
    episode, question = _question(item, episode_slug, number)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
    state = answer_service.page_state(user, item, question)
    stmt = _visible_answers(user, item, question, state)
    if after is not None:
        stmt = stmt.where(Answer.id > after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    replies = _live_reply_counts([a.id for a in rows])
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
    result["answer_count"] = _answer_count(item, question)
    result["sees_peers"] = policy.can_see_peer_answers(
        user, item, has_answered=state.has_answered, revealed=state.revealed
    )
    result["revealed"] = state.revealed
    return result


@bp.route(
    "/groups/<slug>/episodes/<episode_slug>/questions/<int:number>/answers", methods=["POST"]
)
@operation(
    "Answer a question", "groups", body=NewAnswer, status=201, ok=out.Answer, errors=[409],
    answers="The answer.",
)
def post_answer(slug: str, episode_slug: str, number: int):
    user = api_user()
    item = load_group(slug)
    episode, question = _question(item, episode_slug, number)
    data = read_body()
    answer = answer_service.post_answer(user, item, question, data.body, data.anonymous)
    body = serialize.answer(
        user, item, answer, episode_slug=episode.slug, number=question.number,
        prompt=question.prompt, reply_count=0,
    )
    return created(body, url_for("api.answer", slug=item.slug, answer_id=answer.id))


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


def readable_answer(group, answer_id: int) -> Answer:
    """An answer of `group` the caller may read (404 otherwise)."""
    answer = answer_service.get_answer(group, answer_id)
    if not answer_service.can_read_answer(api_user(), answer):
        raise ApiError(404, "There is no such answer in this group.")
    return answer


def _answer_json(group, answer) -> dict:
    episode_slug, number, prompt = _question_of(group, answer)
    return serialize.answer(
        api_user(), group, answer, episode_slug=episode_slug, number=number, prompt=prompt,
        reply_count=_live_reply_counts([answer.id]).get(answer.id, 0),
    )


@bp.route("/groups/<slug>/answers/<int:answer_id>")
@operation("One answer", "groups", ok=out.Answer, errors=[403], answers="The answer.")
def answer(slug: str, answer_id: int):
    item = load_group(slug)
    return _answer_json(item, readable_answer(item, answer_id))


@bp.route("/groups/<slug>/answers/<int:answer_id>", methods=["PATCH"])
@operation(
    "Edit your answer", "groups", body=Edit, ok=out.Answer,
    answers="The edited answer (the old text goes to history).",
)
def edit_answer(slug: str, answer_id: int):
    item = load_group(slug)
    target = readable_answer(item, answer_id)
    data = read_body()
    answer_service.edit_answer(api_user(), target, data.body)
    return _answer_json(item, target)


@bp.route("/groups/<slug>/answers/<int:answer_id>/revisions")
@operation(
    "An answer's edit history (its author and the facilitators)", "groups", query=ListQuery,
    ok=out.RevisionPage, errors=[403], answers="Earlier texts, newest first.",
)
def answer_revisions(slug: str, answer_id: int):
    item = load_group(slug)
    viewer = api_user()
    if not policy.can_see_history(viewer, item):
        own = db.session.get(Answer, answer_id) if answer_id <= MAX_ID else None
        if own is None or own.group_id != item.id or not policy.can_see_history(viewer, item, own):
            raise ApiError(403, "Only the author and the group's facilitators see edit history.")
    target = readable_answer(item, answer_id)
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
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
