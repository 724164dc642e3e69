"""One page of a question's answers: the rows, their totals, and what the page shows (its fingerprint)."""

import functools
from dataclasses import dataclass

from sqlalchemy import String, bindparam, case, func, literal, null, select, type_coerce, union_all
from sqlalchemy.orm import joinedload, selectinload

from coprod_study import policy
from coprod_study.extensions import db
from coprod_study.groups.answer_state import (
    PageState,
    _question_filter,
    _question_param,
    _question_params,
    page_state,
)
from coprod_study.groups.service import Question
from coprod_study.models import Answer, Reply
from coprod_study.pagination import PageNumbers
from coprod_study.posts import kernel

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
    # What the answers section shows this reader besides its posts (posts.view.SectionView),
    # set by fragments.answers_section: the template reads it, and the kept HTML is keyed by it.
    section: object = None

    @property
    def total(self) -> int:
        return self.shown_count


def _shown(stmt, question_condition):
    """`stmt` (a select of answers) narrowed to one question's answers that have
    something to show, in page order."""
    return stmt.where(question_condition, kernel.still_shown_clause()).order_by(*ANSWER_ORDER)


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
