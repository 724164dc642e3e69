"""Answers to study questions inside a group, their replies, edits and reveals."""

import functools
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    String,
    bindparam,
    case,
    func,
    literal,
    null,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from coprod_study import policy, throttle
from coprod_study.discussion import mentions
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound, RateLimited
from coprod_study.extensions import db
from coprod_study.groups.service import Question, check_markdown
from coprod_study.models import Answer, QuestionReveal, Reply, Revision
from coprod_study.pagination import PageNumbers


def _now() -> datetime:
    return datetime.now(UTC)


def _question_params(question: Question) -> tuple[bool, int]:
    """The kind of question (True for a group's own) and its id."""
    if question.study_question_id is not None:
        return False, question.study_question_id
    return True, question.group_question_id


def _question_column(model, group_question: bool):
    return model.group_question_id if group_question else model.study_question_id


def _question_filter(model, question: Question):
    group_question, question_id = _question_params(question)
    return _question_column(model, group_question) == question_id


def _question_param(model, group_question: bool):
    """_question_filter with the question's id as the bound parameter "question_id",
    for a statement built once per process for each kind of question: the
    catalog's, or a group's own."""
    return _question_column(model, group_question) == bindparam("question_id")


def _clean_body(body: str) -> str:
    body = check_markdown(body, "body")
    if not body:
        raise DomainError(_("Write something before you post."), field="body")
    return body


def check_post_rate(user) -> None:
    limit = current_app.config["POST_LIMIT"]
    wait = throttle.retry_after(limit, f"post:{user.id}")
    if wait:
        raise RateLimited(
            _("You are posting very fast. Please wait %(wait)s seconds and try again.", wait=wait), wait
        )


def count_post(user) -> None:
    throttle.hit(current_app.config["POST_LIMIT"], f"post:{user.id}")


def _require_member(user, group) -> None:
    if not policy.can_post_in_group(user, group):
        raise Forbidden(_("Only members of this group can post here."))


# --- Reading -----------------------------------------------------------------


def own_answer(user, group, question: Question) -> Answer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(
        select(Answer).where(
            Answer.group_id == group.id,
            Answer.user_id == user.id,
            _question_filter(Answer, question),
        )
    )


def _reveal_exists(group_id, reveal_question):
    """A facilitator revealed the question's answers in the group (an EXISTS to
    select); the id is a value or a bound parameter."""
    return select(QuestionReveal.id).where(
        QuestionReveal.group_id == group_id, reveal_question
    ).exists()


def _reveal_row_exists(group, question: Question):
    return _reveal_exists(group.id, _question_filter(QuestionReveal, question))


def _own_and_revealed(group_id, viewer_id, own_question, reveal_question, *columns):
    """The viewer's own answer (None when there is none) and whether a facilitator
    revealed the question, as one row; ids are values or bound parameters."""
    revealed = _reveal_exists(group_id, reveal_question)
    one = select(literal(1).label("one")).subquery()
    return (
        select(Answer, revealed.label("revealed"), *columns)
        .select_from(one)
        .outerjoin(
            Answer, (Answer.group_id == group_id) & (Answer.user_id == viewer_id) & own_question
        )
    )


@functools.cache
def _own_and_revealed_stmt(group_question: bool):
    """_own_and_revealed for a group outside any course, built once per process for
    each kind of question."""
    return _own_and_revealed(
        bindparam("group_id"),
        bindparam("viewer_id"),
        _question_param(Answer, group_question),
        _question_param(QuestionReveal, group_question),
    )


def is_revealed(group, question: Question) -> bool:
    """Revealed to the whole group: by a facilitator, or by the course's due date."""
    from coprod_study.courses import service as courses

    return bool(db.session.scalar(select(_reveal_row_exists(group, question)))) or (
        courses.revealed_after_due(group, question)
    )


ANSWERS_PER_PAGE = 20
# The page sizes a reader may choose (`?per_page=`); the largest shows a busy question whole.
PAGE_SIZES = (20, 50, 100, 200)
# Endorsed answers first (in the order they were endorsed), then oldest first.
ANSWER_ORDER = (Answer.endorsed_at.is_(None), Answer.endorsed_at, Answer.created_at, Answer.id)


@dataclass
class QuestionPage(PageNumbers):
    answers: list[Answer]
    answer_count: int
    own: Answer | None
    revealed: bool
    sees_peers: bool
    page: int = 1
    per_page: int = ANSWERS_PER_PAGE
    # Answers the viewer can page through (a deleted answer with live replies counts).
    shown_count: int = 0

    @property
    def total(self) -> int:
        return self.shown_count


def _shown(stmt, question_condition):
    """`stmt` (a select of answers) narrowed to one question's answers that have
    something to show, in page order."""
    live_reply = (
        select(Reply.id).where(Reply.answer_id == Answer.id, Reply.deleted_at.is_(None)).exists()
    )
    # A deleted answer with no replies left under it has nothing to show.
    return stmt.where(question_condition, Answer.deleted_at.is_(None) | live_reply).order_by(
        *ANSWER_ORDER
    )


def _shown_answers(viewer, group, question: Question, *, has_answered: bool, revealed: bool):
    """The answers the viewer sees on the page, in page order, as a select()."""
    stmt = policy.visible_answers(
        select(Answer), viewer, group, has_answered=has_answered, revealed=revealed
    )
    return _shown(stmt, _question_filter(Answer, question))


def _page_columns():
    """A page's answer ids with the list's totals (window functions over the whole list):
    how many the reader can page through, and how many are not deleted."""
    return (
        Answer.id,
        func.count().over(),
        func.sum(case((Answer.deleted_at.is_(None), 1), else_=0)).over(),
    )


@functools.cache
def _page_ids_for_all_stmt(group_question: bool):
    """_page_columns of one page of a question's answers for a reader who may read
    them all (policy.answer_scope "all"): the statement _shown_answers makes for
    that reader, built once per process with the group, question, limit and offset
    as parameters."""
    return (
        _shown(
            select(*_page_columns()).where(Answer.group_id == bindparam("group_id")),
            _question_param(Answer, group_question),
        )
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
    )


@dataclass
class PageState:
    """What decides which answers a viewer sees on a question."""

    own: Answer | None
    revealed: bool
    sees_peers: bool

    @property
    def has_answered(self) -> bool:
        return self.own is not None and self.own.deleted_at is None


def page_state(viewer, group, question: Question) -> PageState:
    """The viewer's own answer and whether the answers were revealed (by a facilitator,
    or by the course once the viewer's due date passed), in one query."""
    from coprod_study.courses import service as courses

    after_due = courses.revealed_after_due_clause(group, question, viewer)
    if not getattr(viewer, "is_authenticated", False):
        columns = [_reveal_row_exists(group, question).label("revealed")]
        if after_due is not None:
            columns.append(after_due.label("after_due"))
        own, reveals = None, db.session.execute(select(*columns)).one()
    elif after_due is None:
        group_question, question_id = _question_params(question)
        own, *reveals = db.session.execute(
            _own_and_revealed_stmt(group_question),
            {"group_id": group.id, "viewer_id": viewer.id, "question_id": question_id},
        ).one()
    else:
        own, *reveals = db.session.execute(
            _own_and_revealed(
                group.id,
                viewer.id,
                _question_filter(Answer, question),
                _question_filter(QuestionReveal, question),
                after_due.label("after_due"),
            )
        ).one()
    revealed = any(reveals)
    has_answered = own is not None and own.deleted_at is None
    sees_peers = policy.can_see_peer_answers(
        viewer, group, has_answered=has_answered, revealed=revealed
    )
    return PageState(own=own, revealed=revealed, sees_peers=sees_peers)


def question_page(
    viewer, group, question: Question, page: int = 1, per_page: int = ANSWERS_PER_PAGE,
    state: PageState | None = None,
) -> QuestionPage:
    """One page of answers with their replies, in the same few queries whatever the page size."""
    state = state or page_state(viewer, group, question)
    has_answered, revealed = state.has_answered, state.revealed
    stmt = _shown_answers(viewer, group, question, has_answered=has_answered, revealed=revealed)
    # The page's rows carry the totals (window functions), which saves two count queries.
    stmt = stmt.add_columns(
        func.count().over(),
        func.sum(case((Answer.deleted_at.is_(None), 1), else_=0)).over(),
    ).options(
        joinedload(Answer.author),
        selectinload(Answer.replies).joinedload(Reply.author),
    )
    page = max(1, page)
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    if not rows and page > 1:
        # Past the end (the list shrank): show the last page instead.
        shown = db.session.scalar(select(func.count()).select_from(
            _shown_answers(viewer, group, question, has_answered=has_answered,
                           revealed=revealed).order_by(None).subquery()
        ))
        page = max(1, -(-(shown or 0) // per_page))
        rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    answers = [row[0] for row in rows]
    shown_count = rows[0][1] if rows else 0
    if state.sees_peers:
        answer_count = int(rows[0][2]) if rows else 0
    else:
        answer_count = db.session.scalar(
            select(func.count()).where(
                Answer.group_id == group.id,
                _question_filter(Answer, question),
                Answer.deleted_at.is_(None),
            )
        ) or 0
    return QuestionPage(
        answers=answers,
        answer_count=answer_count,
        own=state.own if has_answered else None,
        revealed=revealed,
        sees_peers=state.sees_peers,
        page=page,
        per_page=per_page,
        shown_count=shown_count,
    )


@dataclass
class Fingerprint:
    """What one page of answers shows, read without loading the answers: their ids,
    change stamps, texts and authors' names, and those of their replies."""

    rows: tuple
    shown_count: int
    answer_count: int
    authors: frozenset
    # The page's answers, in page order.
    ids: tuple = ()


@functools.cache
def _fingerprint_fields():
    """The fields a page of answers shows, for the answers whose ids are given (and
    their replies): one statement built once per process, since building it is
    most of what reading them costs."""
    from coprod_study.models import User

    # Times as the database holds them: a fingerprint compares them, it never reads them.
    def raw(column):
        return type_coerce(column, String)

    ids = bindparam("ids", expanding=True)
    answers = (
        select(
            literal("a"), Answer.id, Answer.user_id, raw(Answer.created_at),
            raw(Answer.edited_at), raw(Answer.deleted_at), raw(Answer.hidden_at),
            Answer.hidden_reason, Answer.anonymous, Answer.body_html, User.display_name,
            raw(User.deleted_at), raw(Answer.endorsed_at), Answer.segment_id,
            Answer.question_text,
        )
        .join(User, User.id == Answer.user_id)
        .where(Answer.id.in_(ids))
    )
    replies = (
        select(
            literal("r"), Reply.id, Reply.user_id, raw(Reply.created_at),
            raw(Reply.edited_at), raw(Reply.deleted_at), raw(Reply.hidden_at),
            Reply.hidden_reason, Reply.anonymous, Reply.body_html, User.display_name,
            raw(User.deleted_at), null(), Reply.answer_id, null(),
        )
        .join(User, User.id == Reply.user_id)
        .where(Reply.answer_id.in_(ids))
    )
    return union_all(answers, replies)


def answers_fingerprint(
    viewer, group, question: Question, state: PageState, page: int, per_page: int
) -> Fingerprint | None:
    """Two plain queries (the page's answer ids, then what they show); None when
    the page is empty (past the end, or nothing yet)."""
    offset = (max(1, page) - 1) * per_page
    scope = policy.answer_scope(
        viewer, group, has_answered=state.has_answered, revealed=state.revealed
    )
    if scope == "all":
        group_question, question_id = _question_params(question)
        page_ids = db.session.execute(
            _page_ids_for_all_stmt(group_question),
            {"group_id": group.id, "question_id": question_id, "limit": per_page,
             "offset": offset},
        ).all()
    else:
        page_ids = db.session.execute(
            _shown_answers(
                viewer, group, question, has_answered=state.has_answered, revealed=state.revealed
            )
            .with_only_columns(*_page_columns())
            .limit(per_page)
            .offset(offset)
        ).all()
    if not page_ids:
        return None
    rows = sorted(map(tuple, db.session.execute(
        _fingerprint_fields(), {"ids": [row[0] for row in page_ids]}
    )))
    return Fingerprint(
        rows=tuple(rows),
        shown_count=int(page_ids[0][1]),
        answer_count=int(page_ids[0][2] or 0),
        authors=frozenset(row[2] for row in rows),
        ids=tuple(row[0] for row in page_ids),
    )


def page_from_ids(
    state: PageState, fingerprint: Fingerprint, page: int, per_page: int
) -> QuestionPage:
    """The page the fingerprint read, loaded for rendering: its answers with their
    authors, replies and the replies' authors, in one query."""
    loaded = {
        answer.id: answer
        for answer in db.session.scalars(
            select(Answer)
            .options(joinedload(Answer.author), joinedload(Answer.replies).joinedload(Reply.author))
            .where(Answer.id.in_(fingerprint.ids))
        ).unique()
    }
    page_view = page_from_fingerprint(state, fingerprint, page, per_page)
    page_view.answers = [loaded[answer_id] for answer_id in fingerprint.ids if answer_id in loaded]
    return page_view


def page_from_fingerprint(
    state: PageState, fingerprint: Fingerprint, page: int, per_page: int
) -> QuestionPage:
    """The page's numbers when its answers come from kept HTML (they are not loaded)."""
    return QuestionPage(
        answers=[],
        answer_count=fingerprint.answer_count,
        own=state.own if state.has_answered else None,
        revealed=state.revealed,
        sees_peers=state.sees_peers,
        page=max(1, page),
        per_page=per_page,
        shown_count=fingerprint.shown_count,
    )


def answer_page_number(viewer, group, question: Question, answer_id: int, per_page: int) -> int:
    """The page of the question on which the viewer finds this answer (1 when it is not shown)."""
    state = page_state(viewer, group, question)
    ids = list(db.session.scalars(
        _shown_answers(
            viewer, group, question, has_answered=state.has_answered, revealed=state.revealed
        ).with_only_columns(Answer.id)
    ))
    if answer_id not in ids:
        return 1
    return ids.index(answer_id) // per_page + 1


def answer_summary_stmt(group_id: int, viewer_id: int):
    """Answer counts per question in a group, and whether the viewer wrote one: read
    from the index ix_answers_group_summary alone."""
    return (
        select(
            Answer.study_question_id,
            Answer.group_question_id,
            func.count(),
            func.max(case((Answer.user_id == viewer_id, 1), else_=0)),
        )
        .where(Answer.group_id == group_id, Answer.deleted_at.is_(None))
        .group_by(Answer.study_question_id, Answer.group_question_id)
    )


def answer_summary(viewer, group) -> tuple[dict[tuple[str, int], int], set[tuple[str, int]]]:
    """Per question key ("s" or "g", id): the number of (not deleted) answers in the
    group, and the keys the viewer answered, in one query."""
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else -1
    rows = db.session.execute(answer_summary_stmt(group.id, viewer_id))
    counts: dict[tuple[str, int], int] = {}
    answered: set[tuple[str, int]] = set()
    for study_id, extra_id, count, mine in rows:
        key = ("s", study_id) if study_id is not None else ("g", extra_id)
        counts[key] = count
        if mine:
            answered.add(key)
    return counts, answered


def get_answer(group, answer_id: int) -> Answer:
    answer = db.session.get(Answer, answer_id)
    if answer is None or answer.group_id != group.id:
        raise NotFound(_("There is no such answer in this group."))
    return answer


def get_reply(group, reply_id: int) -> Reply:
    reply = db.session.get(Reply, reply_id)
    if reply is None or reply.answer.group_id != group.id:
        raise NotFound(_("There is no such reply in this group."))
    return reply


def can_read_answer(viewer, answer: Answer) -> bool:
    """May the viewer read this one answer (and reply under it)?"""
    group = answer.group
    if not policy.can_view_group(viewer, group):
        return False
    if answer.user_id == viewer.id:
        return True
    question = Question(
        number=0,
        prompt="",
        audiences=(),
        study_question_id=answer.study_question_id,
        group_question_id=answer.group_question_id,
    )
    return page_state(viewer, group, question).sees_peers


# --- Writing -----------------------------------------------------------------


def post_answer(
    user, group, question: Question, body: str, anonymous: bool = False, segment_id=None
) -> Answer:
    _require_member(user, group)
    body = _clean_body(body)
    segment = None
    if segment_id:
        from coprod_study.catalog.transcript import segment_for_episode

        segment = segment_for_episode(question.episode_id, segment_id)
    if anonymous and not group.allow_anonymous:
        raise DomainError(_("This group does not allow anonymous answers."))
    check_post_rate(user)
    state = page_state(user, group, question)
    existing = state.own
    if existing is not None and existing.deleted_at is None:
        raise Conflict(_("You have already answered this question; edit your answer instead."))
    named = mentions.mentioned_members(group, body)
    html = mentions.render(group, body, named)
    if existing is not None:
        # Answering again after deleting brings the answer back, with history.
        db.session.add(Revision(answer_id=existing.id, body=existing.body, written_at=existing.created_at))
        existing.body, existing.body_html, existing.anonymous = body, html, anonymous
        existing.deleted_at = None
        existing.edited_at = _now()
        answer = existing
    else:
        answer = Answer(
            group_id=group.id,
            user_id=user.id,
            study_question_id=question.study_question_id,
            group_question_id=question.group_question_id,
            body=body,
            body_html=html,
            anonymous=anonymous,
            segment_id=getattr(segment, "id", None),
        )
        db.session.add(answer)
    try:
        db.session.flush()
        _notify_mentions(user, group, answer, answer, named)
        if not state.sees_peers:
            # Their own answer opens the others: the mentions held back reach them now.
            _deliver_held_mentions(user, group, question)
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(
            _("You have already answered this question; edit your answer instead.")
        ) from error
    count_post(user)
    return answer


def _mention_text(kind: str, name: str, group):
    if kind == "reply":
        return _l("%(name)s mentioned you in a reply in %(group)s", name=name, group=group.name)
    return _l("%(name)s mentioned you in an answer in %(group)s", name=name, group=group.name)


def _notify_mentions(author, group, answer: Answer, post, named: dict[int, str]) -> set[int]:
    """Tell the members an answer or reply mentions, if they may read it now (post before
    you see others holds: the others hear of it when they post their own answer, see
    _deliver_held_mentions). Returns who was told."""
    from coprod_study.models import ANONYMOUS_LABEL, User
    from coprod_study.notifications import service as notifications
    from coprod_study.urls import path_for

    ids = set(named) - {author.id}
    if not ids:
        return set()
    readers = {
        person.id
        for person in db.session.scalars(select(User).where(User.id.in_(ids)))
        if can_read_answer(person, answer)
    }
    kind = "reply" if isinstance(post, Reply) else "answer"
    notifications.notify(
        readers,
        "mention",
        _mention_text(kind, ANONYMOUS_LABEL if post.anonymous else author.display_name, group),
        path_for("groups.answer_link", slug=group.slug, answer_id=answer.id),
        group=group,
        target_type=kind,
        target_id=post.id,
    )
    return readers


def _deliver_held_mentions(user, group, question: Question) -> None:
    """The mentions of `user` in the question's answers and replies that they could not
    read until now, each once."""
    from coprod_study.models import ANONYMOUS_LABEL, Notification
    from coprod_study.notifications import service as notifications
    from coprod_study.urls import path_for

    name = user.display_name.lower()
    told = set(
        db.session.execute(
            select(Notification.target_type, Notification.target_id).where(
                Notification.user_id == user.id, Notification.kind == "mention"
            )
        ).all()
    )
    live = (Answer.deleted_at.is_(None), Answer.hidden_at.is_(None))
    in_question = (Answer.group_id == group.id, _question_filter(Answer, question), *live)
    found = [
        ("answer", row, row)
        for row in db.session.scalars(
            select(Answer).where(*in_question, Answer.user_id != user.id, Answer.body.contains("@"))
        )
    ] + [
        ("reply", row, row.answer)
        for row in db.session.scalars(
            select(Reply).join(Answer, Answer.id == Reply.answer_id).where(
                *in_question, Reply.user_id != user.id, Reply.deleted_at.is_(None),
                Reply.hidden_at.is_(None), Reply.body.contains("@"),
            )
        )
    ]
    for kind, post, answer in found:
        if (kind, post.id) in told or name not in mentions.mentioned_names(post.body):
            continue
        author = ANONYMOUS_LABEL if post.anonymous else post.author.display_name
        notifications.notify(
            [user.id],
            "mention",
            _mention_text(kind, author, group),
            path_for("groups.answer_link", slug=group.slug, answer_id=answer.id),
            group=group,
            target_type=kind,
            target_id=post.id,
        )


def save_edit(post, body: str, revision) -> bool:
    """Keep the old text as a revision, store the new one, commit. Returns changed?

    `revision(old_body, written_at)` makes the history row for this kind of post.
    """
    if body == post.body:
        return False
    db.session.add(revision(post.body, post.edited_at or post.created_at))
    post.body = body
    post.body_html = mentions.render(policy.group_of(post), body)
    post.edited_at = _now()
    db.session.commit()
    return True


def edit_answer(user, answer: Answer, body: str) -> Answer:
    if not policy.can_edit_post(user, answer):
        raise Forbidden(_("You can edit only your own answers in groups you belong to."))
    save_edit(answer, _clean_body(body), lambda old, at: Revision(answer_id=answer.id, body=old, written_at=at))
    return answer


def delete_answer(user, answer: Answer) -> None:
    if not policy.can_edit_post(user, answer):
        raise Forbidden(_("You can delete only your own answers in groups you belong to."))
    answer.deleted_at = _now()
    answer.endorsed_at = None
    db.session.commit()


def endorse(actor, answer: Answer, endorsed: bool) -> None:
    if not policy.can_moderate(actor, answer.group):
        raise Forbidden(_("Only the group's facilitators may endorse answers."))
    if answer.deleted_at is not None:
        raise Conflict(_("A deleted answer cannot be endorsed."))
    answer.endorsed_at = _now() if endorsed else None
    answer.endorsed_by_id = actor.id if endorsed else None
    db.session.commit()


def reveal(actor, group, question: Question) -> bool:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may reveal answers."))
    if is_revealed(group, question):
        return False
    db.session.add(
        QuestionReveal(
            group_id=group.id,
            study_question_id=question.study_question_id,
            group_question_id=question.group_question_id,
            revealed_by_id=actor.id,
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def post_reply(user, answer: Answer, body: str, anonymous: bool = False) -> Reply:
    group = answer.group
    _require_member(user, group)
    if not can_read_answer(user, answer):
        raise Forbidden(_("Post your own answer first; then you can reply to others."))
    if answer.deleted_at is not None:
        raise Conflict(_("This answer was deleted; it takes no new replies."))
    if answer.hidden_at is not None:
        raise Conflict(_("A facilitator hid this answer; it takes no new replies."))
    body = _clean_body(body)
    if anonymous and not group.allow_anonymous:
        raise DomainError(_("This group does not allow anonymous replies."))
    check_post_rate(user)
    named = mentions.mentioned_members(group, body)
    reply = Reply(
        answer_id=answer.id,
        user_id=user.id,
        body=body,
        body_html=mentions.render(group, body, named),
        anonymous=anonymous,
    )
    db.session.add(reply)
    db.session.flush()
    # One notification per person: a mention beats "replied to your answer".
    told = _notify_mentions(user, group, answer, reply, named)
    if (
        answer.user_id != user.id
        and answer.user_id not in told
        and policy.is_member(answer.author, group)
    ):
        from coprod_study.models import ANONYMOUS_LABEL
        from coprod_study.notifications import service as notifications
        from coprod_study.urls import path_for

        name = ANONYMOUS_LABEL if anonymous else user.display_name
        notifications.notify(
            [answer.user_id],
            "reply",
            _l("%(name)s replied to your answer in %(group)s", name=name, group=group.name),
            path_for("groups.answer_link", slug=group.slug, answer_id=answer.id),
            group=group,
            target_type="reply",
            target_id=reply.id,
        )
    db.session.commit()
    count_post(user)
    return reply


def edit_reply(user, reply: Reply, body: str) -> Reply:
    if not policy.can_edit_post(user, reply):
        raise Forbidden(_("You can edit only your own replies in groups you belong to."))
    save_edit(reply, _clean_body(body), lambda old, at: Revision(reply_id=reply.id, body=old, written_at=at))
    return reply


def delete_reply(user, reply: Reply) -> None:
    if not policy.can_edit_post(user, reply):
        raise Forbidden(_("You can delete only your own replies in groups you belong to."))
    reply.deleted_at = _now()
    db.session.commit()


def history(answer_or_reply) -> list[Revision]:
    column = Revision.answer_id if isinstance(answer_or_reply, Answer) else Revision.reply_id
    return list(
        db.session.scalars(
            select(Revision).where(column == answer_or_reply.id).order_by(Revision.id.desc())
        )
    )

