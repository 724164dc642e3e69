"""The episodes a person has marked as listened to."""

from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import (
    Episode,
    ListeningProgress,
)


def listened_episode_ids(user) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        db.session.scalars(
            select(ListeningProgress.episode_id).where(
                ListeningProgress.user_id == user.id, ListeningProgress.listened.is_(True)
            )
        )
    )


def set_listened(user, episode: Episode, listened: bool) -> None:
    progress = db.session.get(ListeningProgress, (user.id, episode.id))
    if progress is None:
        progress = ListeningProgress(user_id=user.id, episode_id=episode.id)
        db.session.add(progress)
    progress.listened = listened
    db.session.commit()
