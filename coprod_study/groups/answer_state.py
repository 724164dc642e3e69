"""Where a viewer stands on a question: their own answer, whether it was revealed, what they may read."""

import functools
from dataclasses import dataclass

from sqlalchemy import bindparam, case, func, literal, select

from coprod_study import policy
from coprod_study.extensions import db
from coprod_study.groups.service import Question
from coprod_study.models import Answer, QuestionReveal, Reply
from coprod_study.posts import kernel


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
    """:raise NotFound: no such answer in this group."""
    return kernel.find(group, "answer", answer_id)


def get_reply(group, reply_id: int) -> Reply:
    """:raise NotFound: no such reply in this group."""
    return kernel.find(group, "reply", reply_id)


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
