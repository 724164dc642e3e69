"""What a group studies: its episodes and each episode's questions, the catalog's and its own."""

import functools
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from coprod_study.errors import NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Episode,
    GroupQuestion,
    StudyQuestion,
)

# --- The group's questions --------------------------------------------------


@dataclass(frozen=True)
class Question:
    """A study question as a group sees it: the catalog's, then the group's own."""

    number: int
    prompt: str
    audiences: tuple[str, ...]
    study_question_id: int | None = None
    group_question_id: int | None = None
    episode_id: int | None = None

    @property
    def is_extra(self) -> bool:
        return self.group_question_id is not None

    @property
    def key(self) -> tuple[str, int]:
        if self.study_question_id is not None:
            return ("s", self.study_question_id)
        return ("g", self.group_question_id)


def studied_in(group):
    """The condition on Episode for the episodes a group studies: every episode, or
    for a course's group only those the course assigns."""
    from sqlalchemy import true

    if group.course_id is None:
        return true()
    return _assigned_by(group.course_id)


def _assigned_by(course_id):
    """The condition on Episode for the episodes course `course_id` (a value or a bound
    parameter) assigns."""
    from coprod_study.models import Assignment

    return Episode.id.in_(select(Assignment.episode_id).where(Assignment.course_id == course_id))


@dataclass
class ListedEpisode:
    """An episode as the group page lists it: plain values, not a loaded Episode."""

    id: int
    slug: str
    number: int
    title: str
    dimension_name: str
    questions: list[Question] = field(default_factory=list)


def group_episodes(group) -> list[ListedEpisode]:
    """The episodes the group page lists, with their dimension's name and their catalog
    questions numbered, in one query of plain rows (some 300 for 50 episodes: as ORM
    objects they cost four times as much to load)."""
    from coprod_study.models import Dimension

    stmt = (
        select(
            Episode.id, Episode.slug, Episode.number, Episode.title, Dimension.name,
            StudyQuestion.id, StudyQuestion.prompt, StudyQuestion.audiences,
        )
        .join(Dimension, Dimension.id == Episode.dimension_id)
        .outerjoin(StudyQuestion, StudyQuestion.episode_id == Episode.id)
        .where(studied_in(group))
        .order_by(Episode.number, StudyQuestion.position)
    )
    listed: list[ListedEpisode] = []
    for row in db.session.execute(stmt):
        episode_id, slug, number, title, dimension_name, question_id, prompt, audiences = row
        if not listed or listed[-1].id != episode_id:
            listed.append(ListedEpisode(episode_id, slug, number, title, dimension_name))
        episode = listed[-1]
        if question_id is not None:
            episode.questions.append(
                _catalog_question(
                    episode_id, len(episode.questions) + 1, question_id, prompt, audiences
                )
            )
    return listed


def listed_questions(episode: ListedEpisode, extras: list[GroupQuestion]) -> list[Question]:
    """A listed episode's questions as the group sees them: the catalog's, then its own."""
    return _with_own(episode.id, episode.questions, extras)


# A group's own questions on an episode, in the order they are numbered.
OWN_QUESTION_ORDER = (GroupQuestion.position, GroupQuestion.id)


def extra_questions(group, episode_ids: list[int] | None = None) -> list[GroupQuestion]:
    return extra_questions_by_group([group.id], episode_ids).get(group.id, [])


def extra_questions_by_group(
    group_ids: list[int], episode_ids: list[int] | None = None
) -> dict[int, list[GroupQuestion]]:
    """The extra questions of several groups (on these episodes, or all), by group,
    in one query."""
    found: dict[int, list[GroupQuestion]] = {}
    if not group_ids:
        return found
    stmt = select(GroupQuestion).where(GroupQuestion.group_id.in_(group_ids))
    if episode_ids is not None:
        stmt = stmt.where(GroupQuestion.episode_id.in_(episode_ids))
    for question in db.session.scalars(stmt.order_by(*OWN_QUESTION_ORDER)):
        found.setdefault(question.group_id, []).append(question)
    return found


def questions_for(episode: Episode, extras: list[GroupQuestion]) -> list[Question]:
    catalog = [
        _catalog_question(episode.id, number, q.id, q.prompt, q.audiences)
        for number, q in enumerate(episode.questions, start=1)
    ]
    return _with_own(episode.id, catalog, extras)


def _catalog_question(episode_id: int, number: int, question_id: int, prompt: str,
                      audiences) -> Question:
    return Question(
        number=number, prompt=prompt, audiences=tuple(audiences or ()),
        study_question_id=question_id, episode_id=episode_id,
    )


def _with_own(episode_id: int, catalog: list[Question], extras: list[GroupQuestion]
              ) -> list[Question]:
    """The catalog's questions, then the group's own on this episode numbered after them
    (`extras` may hold other episodes' too)."""
    own = [x for x in extras if x.episode_id == episode_id]
    start = len(catalog) + 1
    return catalog + [_own_question(episode_id, x, start + i) for i, x in enumerate(own)]


def _own_question(episode_id: int, extra: GroupQuestion, number: int) -> Question:
    """A group's own question, numbered after the catalog's."""
    return Question(
        number=number, prompt=extra.prompt, audiences=(), group_question_id=extra.id,
        episode_id=episode_id,
    )


def _episode_with_questions(condition) -> Episode:
    from sqlalchemy.orm import joinedload

    # One episode and its few questions: one query with a join.
    episode = (
        db.session.scalars(select(Episode).options(joinedload(Episode.questions)).where(condition))
        .unique()
        .first()
    )
    if episode is None:
        raise NotFound(_("There is no such episode."))
    return episode


def get_episode(slug: str) -> Episode:
    return _episode_with_questions(Episode.slug == slug)


@functools.cache
def _group_episode_stmt(in_course: bool):
    """An episode by slug with its questions, for a group in a course (only if the
    course assigns it) or not: built once per process for each."""
    from sqlalchemy.orm import joinedload

    stmt = (
        select(Episode)
        .options(joinedload(Episode.questions))
        .where(Episode.slug == bindparam("slug"))
    )
    if in_course:
        stmt = stmt.where(_assigned_by(bindparam("course_id")))
    return stmt


def get_group_episode(group, slug: str) -> Episode:
    """An episode as a group studies it.

    :raise NotFound: no such episode, or the group's course does not assign it.
    """
    episode = (
        db.session.scalars(
            _group_episode_stmt(group.course_id is not None),
            {"slug": slug, "course_id": group.course_id},
        )
        .unique()
        .first()
    )
    if episode is not None:
        return episode
    if group.course_id is not None and db.session.scalar(
        select(Episode.id).where(Episode.slug == slug)
    ):
        raise NotFound(
            _(
                "%(group)s studies the episodes its course assigns, and this one is "
                "not assigned.",
                group=group.name,
            )
        )
    raise NotFound(_("There is no such episode."))


def groups_studying(groups: list, episode: Episode) -> list:
    """Those of `groups` that study `episode` (one query when a course's group is among
    them, none otherwise)."""
    from coprod_study.models import Assignment

    course_ids = {group.course_id for group in groups if group.course_id is not None}
    assigning = set()
    if course_ids:
        assigning = set(
            db.session.scalars(
                select(Assignment.course_id).where(
                    Assignment.course_id.in_(course_ids), Assignment.episode_id == episode.id
                )
            )
        )
    return [group for group in groups if group.course_id is None or group.course_id in assigning]


def question_episode_id(study_question_id: int | None, group_question_id: int | None):
    """The id of the episode a question (the catalog's or a group's) is about, as a
    scalar subquery."""
    if study_question_id is not None:
        return (
            select(StudyQuestion.episode_id)
            .where(StudyQuestion.id == study_question_id)
            .scalar_subquery()
        )
    return (
        select(GroupQuestion.episode_id)
        .where(GroupQuestion.id == group_question_id)
        .scalar_subquery()
    )


def episode_of_answer(answer, group) -> Episode:
    """The episode (with its questions) of the question an answer answers.

    :raise NotFound: the group (the answer's) no longer studies that episode.
    """
    return _episode_with_questions(
        (Episode.id == question_episode_id(answer.study_question_id, answer.group_question_id))
        & studied_in(group)
    )


def get_question(group, episode: Episode, number: int) -> Question:
    """Question `number` of `episode` as `group` numbers them: the catalog's first, so
    the group's own questions are read only for a number past the catalog's."""
    catalog_count = len(episode.questions)
    if 1 <= number <= catalog_count:
        return questions_for(episode, [])[number - 1]
    if number > catalog_count:
        own = db.session.scalars(
            select(GroupQuestion)
            .where(GroupQuestion.group_id == group.id, GroupQuestion.episode_id == episode.id)
            .order_by(*OWN_QUESTION_ORDER)
            .offset(number - catalog_count - 1)
            .limit(1)
        ).first()
        if own is not None:
            return _own_question(episode.id, own, number)
    raise NotFound(_("Episode %(episode)s has no question %(number)s.", episode=episode.number, number=number))
