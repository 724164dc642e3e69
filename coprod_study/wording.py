"""Answers keep the wording of the question they answered when that wording changes later."""

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, attributes

from coprod_study.models import Answer, GroupQuestion, StudyQuestion


def _old_prompt(session, question) -> str | None:
    history = attributes.get_history(question, "prompt")
    if not history.has_changes() or not history.added:
        return None
    new = history.added[0]
    if history.deleted:
        old = history.deleted[0]
    else:
        # Set without being read first: the database still holds the old text.
        table = type(question).__table__
        old = session.execute(
            select(table.c.prompt).where(table.c.id == question.id)
        ).scalar()
    return old if old is not None and old != new else None


@event.listens_for(Session, "before_flush")
def _keep_answered_wording(session, flush_context, instances) -> None:
    # Whatever changes a prompt (the admin editor, a catalog load, a group's
    # facilitator), the answers written so far keep the text they answered.
    # An answer that already keeps an older text keeps that one.
    for question in list(session.dirty):
        if isinstance(question, StudyQuestion):
            column = Answer.study_question_id
        elif isinstance(question, GroupQuestion):
            column = Answer.group_question_id
        else:
            continue
        if question.id is None:
            continue
        old = _old_prompt(session, question)
        if old is None:
            continue
        session.execute(
            update(Answer.__table__)
            .where(column == question.id, Answer.__table__.c.question_text.is_(None))
            .values(question_text=old)
        )


def answered_wording(answer, current_prompt: str) -> str | None:
    """The earlier wording an answer was written to, or None if it answered the current one."""
    text = answer.question_text
    return text if text is not None and text != current_prompt else None
