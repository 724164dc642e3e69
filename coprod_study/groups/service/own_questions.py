"""A group's own questions on an episode: adding, editing and ordering them."""

from flask_babel import gettext as _
from sqlalchemy import func, select

from coprod_study import policy
from coprod_study.errors import DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.groups.service.episodes import extra_questions
from coprod_study.groups.service.groups import MAX_QUESTION
from coprod_study.models import (
    Episode,
    GroupQuestion,
    StudyQuestion,
)


def _clean_prompt(prompt: str) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise DomainError(_("Write the question."), field="prompt")
    if len(prompt) > MAX_QUESTION:
        raise DomainError(_("Keep the question under %(max)s characters.", max=MAX_QUESTION), field="prompt")
    return prompt


def add_extra_question(actor, group, episode: Episode, prompt: str) -> GroupQuestion:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may add questions."))
    prompt = _clean_prompt(prompt)
    last = db.session.scalar(
        select(func.max(GroupQuestion.position)).where(
            GroupQuestion.group_id == group.id, GroupQuestion.episode_id == episode.id
        )
    )
    question = GroupQuestion(
        group_id=group.id,
        episode_id=episode.id,
        position=(last or 0) + 1,
        prompt=prompt,
        created_by_id=actor.id,
    )
    db.session.add(question)
    db.session.commit()
    return question


def get_extra_question(group, question_id: int) -> GroupQuestion:
    question = db.session.get(GroupQuestion, question_id)
    if question is None or question.group_id != group.id:
        raise NotFound(_("There is no such question in this group."))
    return question


def edit_extra_question(actor, group, question_id: int, prompt: str) -> GroupQuestion:
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may edit questions."))
    question = get_extra_question(group, question_id)
    question.prompt = _clean_prompt(prompt)
    db.session.commit()
    return question


def move_extra_question(actor, group, question_id: int, direction: str) -> None:
    """Swap a question with its neighbour ("up" or "down")."""
    if not policy.can_moderate(actor, group):
        raise Forbidden(_("Only the group's facilitators may reorder questions."))
    question = get_extra_question(group, question_id)
    siblings = [
        q for q in extra_questions(group, [question.episode_id])
    ]
    index = siblings.index(question)
    other_index = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other_index < len(siblings):
        return
    siblings[index], siblings[other_index] = siblings[other_index], siblings[index]
    for position, item in enumerate(siblings, start=1):
        item.position = position
    db.session.commit()


def study_question(question_id: int) -> StudyQuestion | None:
    return db.session.get(StudyQuestion, question_id)
