"""An episode's own fields: creating, updating and deleting it, and its transcripts."""

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from coprod_study import audit
from coprod_study.catalog.editing.document import (
    EditError,
    _require_editor,
    _save,
    document,
    get_episode,
)
from coprod_study.errors import Conflict
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Assignment,
    Episode,
    GroupQuestion,
    StudyQuestion,
)

# --- The episode's own fields ------------------------------------------------------------


@dataclass
class EpisodeFields:
    slug: str
    number: int | None
    title: str
    dimension: str
    related_dimensions: list[str]
    published: date | None
    audio_url: str
    duration: str
    host: str
    summary: str
    sample: bool


def _apply_fields(raw: dict, fields: EpisodeFields) -> dict:
    raw = dict(raw)
    values = {
        "slug": fields.slug.strip(),
        "number": fields.number,
        "title": fields.title,
        "dimension": fields.dimension,
        "related_dimensions": list(fields.related_dimensions),
        "published": fields.published,
        "audio_url": fields.audio_url.strip(),
        "duration": fields.duration.strip(),
        "host": fields.host,
        "summary": fields.summary,
        "sample": fields.sample,
    }
    for key, value in values.items():
        if value is None or value == "":
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


def _slug_taken(slug: str, episode: Episode | None) -> Episode | None:
    other = db.session.scalar(select(Episode).where(Episode.slug == slug))
    return other if other is not None and other is not episode else None


def create_episode(actor, fields: EpisodeFields) -> Episode:
    _require_editor(actor)
    raw = _apply_fields({}, fields)
    other = _slug_taken(raw.get("slug", ""), None)
    if other is not None:
        raise EditError([_("The slug is used by episode %(number)s already.", number=other.number)], "slug")
    _save(actor, raw, "catalog.episode_created", {"episode": raw.get("slug")})
    return get_episode(raw["slug"])


def update_episode(actor, episode: Episode, fields: EpisodeFields) -> Episode:
    _require_editor(actor)
    raw = _apply_fields(document(episode), fields)
    other = _slug_taken(raw.get("slug", ""), episode)
    if other is not None:
        raise EditError([_("The slug is used by episode %(number)s already.", number=other.number)], "slug")
    _save(
        actor, raw, "catalog.episode_updated", {"episode": raw.get("slug"), "change": "fields"},
        rename=episode,
    )
    return episode


def delete_episode(actor, episode: Episode) -> None:
    """Only an episode nobody has worked on: answers and assignments would go with it."""
    _require_editor(actor)
    question_ids = select(StudyQuestion.id).where(StudyQuestion.episode_id == episode.id)
    answers = db.session.scalar(
        select(func.count()).where(Answer.study_question_id.in_(question_ids))
    )
    group_questions = db.session.scalar(
        select(func.count()).where(GroupQuestion.episode_id == episode.id)
    )
    assignments = db.session.scalar(
        select(func.count()).where(Assignment.episode_id == episode.id)
    )
    if answers or group_questions or assignments:
        raise Conflict(
            _(
                "This episode has answers, group questions or course assignments; it cannot be "
                "deleted without losing them."
            )
        )
    audit.record(actor, "catalog.episode_deleted", details={"episode": episode.slug})
    db.session.delete(episode)
    db.session.commit()


# --- Transcripts ------------------------------------------------------------------------


def upload_transcript(actor, episode: Episode, language: str, filename: str, raw: bytes):
    """Store or replace a transcript; the audit entry commits with it, or neither does."""
    from coprod_study.catalog import transcript as transcripts

    _require_editor(actor)
    audit.record(
        actor, "catalog.transcript_stored",
        details={"episode": episode.slug, "language": language, "file": (filename or "")[:200]},
    )
    try:
        return transcripts.store_transcript(episode, language, filename, raw)
    except Exception:
        db.session.rollback()
        raise


def delete_transcript(actor, episode: Episode, language: str) -> None:
    from coprod_study.catalog import transcript as transcripts

    _require_editor(actor)
    audit.record(
        actor, "catalog.transcript_deleted", details={"episode": episode.slug, "language": language}
    )
    try:
        transcripts.delete_transcript(episode, language)
    except Exception:
        db.session.rollback()
        raise
