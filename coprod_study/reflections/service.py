"""Reflections: written after listening, seen by their author alone (admins included)."""

from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.catalog.translations import for_episode
from coprod_study.errors import Conflict, DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.markup import render_markdown
from coprod_study.models import Episode, ListeningProgress, Reflection

FIELDS = ("learned", "will_try", "for_whom")
MAX_LENGTH = 5000
# Which takeaways prompt which part of a reflection.
PROMPT_KINDS = {"learned": "key_lesson", "will_try": "start_applying", "for_whom": "idea_to_ponder"}


def has_listened(user, episode: Episode) -> bool:
    return bool(
        db.session.scalar(
            select(ListeningProgress.listened).where(
                ListeningProgress.user_id == user.id, ListeningProgress.episode_id == episode.id
            )
        )
    )


def own_reflection(user, reflection_id: int) -> Reflection:
    """The person's own reflection.

    :raise NotFound: there is none with that id, or it is someone else's (whoever asks).
    """
    reflection = db.session.scalar(
        select(Reflection)
        .options(selectinload(Reflection.episode))
        .where(Reflection.id == reflection_id, Reflection.user_id == user.id)
    )
    if reflection is None:
        raise NotFound(_("There is no such reflection."))
    return reflection


def reflection_for(user, episode: Episode) -> Reflection | None:
    return db.session.scalar(
        select(Reflection).where(Reflection.user_id == user.id, Reflection.episode_id == episode.id)
    )


def my_reflections(user) -> list[Reflection]:
    return list(
        db.session.scalars(
            select(Reflection)
            .options(selectinload(Reflection.episode))
            .join(Episode, Episode.id == Reflection.episode_id)
            .where(Reflection.user_id == user.id)
            .order_by(Episode.number)
        )
    )


def prompts(episode: Episode, language: str = "en") -> dict[str, list[str]]:
    """The episode's takeaways (in `language` where translated), as prompts for each
    part of a reflection."""
    text = for_episode(episode, language)
    return {
        name: [text.get("takeaway", t, "text") for t in episode.takeaways if t.kind == kind]
        for name, kind in PROMPT_KINDS.items()
    }


def save_reflection(user, episode: Episode, values: dict[str, str]) -> Reflection:
    """Write or rewrite the person's reflection on an episode they listened to.

    :raise Conflict: a first reflection on an episode they have not marked listened.
    :raise DomainError: every part is empty, or one is too long.
    """
    reflection = reflection_for(user, episode)
    # Once written, a reflection stays the person's to change, listened or not.
    if reflection is None and not has_listened(user, episode):
        raise Conflict(_("Mark the episode as listened before you reflect on it."))
    cleaned = {name: (values.get(name) or "").strip() for name in FIELDS}
    for name, text in cleaned.items():
        if len(text) > MAX_LENGTH:
            raise DomainError(
                _("Use at most %(max)d characters.", max=MAX_LENGTH), field=name
            )
    if not any(cleaned.values()):
        raise DomainError(_("Write at least one part of your reflection."), field="learned")
    now = datetime.now(UTC)
    if reflection is None:
        reflection = Reflection(user_id=user.id, episode_id=episode.id, created_at=now)
        db.session.add(reflection)
    for name, text in cleaned.items():
        setattr(reflection, name, text)
        setattr(reflection, f"{name}_html", str(render_markdown(text)))
    reflection.updated_at = now
    db.session.commit()
    return reflection


def delete_reflection(user, reflection_id: int) -> None:
    db.session.delete(own_reflection(user, reflection_id))
    db.session.commit()


def reflected_episode_ids(user) -> set[int]:
    return set(db.session.scalars(select(Reflection.episode_id).where(Reflection.user_id == user.id)))
