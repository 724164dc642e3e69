"""Grades follow the work: an answer saved or removed, an extension granted or removed,
queues the learner's score for every LMS course the course is linked to (one place,
SQLAlchemy session events, so the course and answer services need no edits)."""

import functools
from itertools import chain

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from coprod_study.models import Answer, Assignment, Extension, LtiContext, StudyGroup, StudyQuestion

PENDING_KEY = "lti_grades_pending"


def _answer_targets(connection, answer: Answer):
    rows = connection.execute(
        select(LtiContext.id, Assignment.id)
        .select_from(StudyGroup)
        .join(LtiContext, LtiContext.course_id == StudyGroup.course_id)
        .join(Assignment, Assignment.course_id == StudyGroup.course_id)
        .join(StudyQuestion, StudyQuestion.episode_id == Assignment.episode_id)
        .where(StudyGroup.id == answer.group_id, StudyQuestion.id == answer.study_question_id)
    )
    return [(context_id, assignment_id, answer.user_id) for context_id, assignment_id in rows]


def _extension_targets(connection, extension: Extension):
    rows = connection.execute(
        select(LtiContext.id)
        .join(Assignment, Assignment.course_id == LtiContext.course_id)
        .where(Assignment.id == extension.assignment_id)
    )
    return [(context_id, extension.assignment_id, extension.user_id) for (context_id,) in rows]


def _after_flush(session, _flush_context) -> None:
    changed = list(chain(session.new, session.dirty, session.deleted))
    answers = [o for o in changed if isinstance(o, Answer) and o.study_question_id and o.group_id]
    extensions = [o for o in changed if isinstance(o, Extension) and o.assignment_id]
    if not answers and not extensions:
        return
    connection = session.connection()
    pending = session.info.setdefault(PENDING_KEY, [])
    for answer in answers:
        pending.extend(_answer_targets(connection, answer))
    for extension in extensions:
        pending.extend(_extension_targets(connection, extension))


def _after_commit(session) -> None:
    triples = session.info.pop(PENDING_KEY, None)
    if not triples:
        return
    from coprod_study.lti.service import grades

    try:
        grades.enqueue(triples)
    except (RuntimeError, KeyError):
        return  # no app (a script): nothing to post to


def _after_rollback(session) -> None:
    session.info.pop(PENDING_KEY, None)


@functools.cache
def listen() -> None:
    event.listen(Session, "after_flush", _after_flush)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)


listen()
