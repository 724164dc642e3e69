"""Editing the catalog in the browser, checked by the catalog file's own rules.

Each change is made to the episode's table as the catalog file would hold it
(catalog.export), then validated and applied by the loader
(catalog.service), so an edit in the browser is exactly as strict as a file
and can be exported back to one. Study questions move and go through their
rows instead, because answers point at them.
"""

import re
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from coprod_study import audit, policy
from coprod_study.catalog import export as catalog_export
from coprod_study.catalog import service as catalog
from coprod_study.errors import Conflict, DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Assignment,
    ContentTranslation,
    Episode,
    GroupQuestion,
    Person,
    StudyQuestion,
)

KINDS = {
    "guests": "guest",
    "takeaways": "takeaway",
    "questions": "question",
    "references": "reference",
    "chapters": "chapter",
}
# What the editor says when an item number is wrong, per list.
MISSING_ITEM = {
    "guests": _l("There is no guest %(index)s."),
    "takeaways": _l("There is no takeaway %(index)s."),
    "questions": _l("There is no question %(index)s."),
    "references": _l("There is no reference %(index)s."),
    "chapters": _l("There is no chapter %(index)s."),
}
# Lists whose translations the file keeps in step, item by item.
TRANSLATED = {"takeaways", "questions", "chapters"}
EPISODE_FIELDS = (
    "slug", "number", "title", "dimension", "related_dimensions", "published", "audio_url",
    "duration", "host", "summary", "sample",
)


class EditError(DomainError):
    """The loader's problems with an edit, each as a message for the form."""

    def __init__(self, problems: list[str], field: str | None = None):
        super().__init__(" ".join(problems), field=field)
        self.problems = problems


def _require_editor(actor) -> None:
    if not policy.can_edit_catalog(actor):
        raise Forbidden(_("Only admins edit the catalog."))


def get_episode(slug: str) -> Episode:
    episode = db.session.scalar(select(Episode).where(Episode.slug == slug))
    if episode is None:
        raise NotFound(_("There is no such episode."))
    return episode


def document(episode: Episode) -> dict:
    """The episode's table in the catalog file (without transcripts, which are files)."""
    return catalog_export.episode_document(episode, sample=episode.is_sample)


FIELD_NAMES = {"audio_url": "audio URL", "related_dimensions": "related dimensions"}


def _readable(problem: str, slug: str | None) -> str:
    """'episode "x": takeaway 2: empty text' -> 'Takeaway 2: empty text'."""
    text = re.sub(r'^episode (?:"[^"]*"|\d+): ', "", problem)
    # The loader speaks of files; here the "file" is the one episode being edited.
    text = text.replace(", which is not in this file", "")
    for key, name in FIELD_NAMES.items():
        text = re.sub(rf"\b{key}\b", name, text)
    return text[:1].upper() + text[1:]


def _save(actor, raw: dict, action: str, details: dict, *, rename: Episode | None = None) -> None:
    """Validate `raw` as a catalog file's episode and apply it, in one transaction."""
    try:
        data = catalog.validate(
            {"dimensions": catalog_export.dimensions_document(), "episodes": [raw]}
        )
    except catalog.CatalogError as error:
        db.session.rollback()
        raise EditError([_readable(p, raw.get("slug")) for p in error.problems]) from error
    if rename is not None and rename.slug != raw["slug"]:
        # The loader finds episodes by slug: give the row its new slug first.
        rename.slug = raw["slug"]
    audit.record(actor, action, details=details)
    try:
        catalog.apply(data)
    except catalog.CatalogError as error:
        raise EditError([_readable(p, raw.get("slug")) for p in error.problems]) from error


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


# --- Guests, takeaways, questions, references, chapters ------------------------------------


def _items(raw: dict, kind: str) -> list[dict]:
    return [dict(item) for item in raw.get(kind, [])]


def _set_items(raw: dict, kind: str, items: list[dict]) -> None:
    if items:
        raw[kind] = items
    else:
        raw.pop(kind, None)


def _each_translation(raw: dict, kind: str):
    if kind not in TRANSLATED:
        return
    for entry in raw.get("translations", {}).values():
        if kind in entry:
            yield entry


def _check_index(items: list, index: int, kind: str) -> None:
    if not 1 <= index <= len(items):
        raise NotFound(MISSING_ITEM[kind] % {"index": index})


def _clean_item(kind: str, values: dict) -> dict:
    """Drop empty optional values: the file leaves them out."""
    item = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = value.strip()
        if value in (None, "") and not (kind == "questions" and key == "audiences"):
            continue
        item[key] = value
    if kind == "questions":
        item.setdefault("audiences", [])
    return item


def _sort_chapters(raw: dict) -> None:
    """Chapters are kept in time order, their translations along with them."""
    items = raw.get("chapters", [])
    try:
        starts = [catalog.parse_duration(item.get("start")) for item in items]
    except ValueError:
        return  # the loader names the bad start
    order = sorted(range(len(items)), key=lambda i: starts[i])
    raw["chapters"] = [items[i] for i in order]
    for entry in _each_translation(raw, "chapters"):
        entry["chapters"] = [entry["chapters"][i] for i in order]


def _append_item(raw: dict, kind: str, values: dict) -> None:
    items = _items(raw, kind)
    item = _clean_item(kind, values)
    if kind == "guests" and item.get("name") and not item.get("bio"):
        # A person who is a guest elsewhere already has a bio.
        known = db.session.scalar(select(Person).where(Person.name == item["name"]))
        if known is not None and known.bio:
            item["bio"] = known.bio
    items.append(item)
    _set_items(raw, kind, items)
    original = item.get({"takeaways": "text", "questions": "prompt", "chapters": "title"}.get(kind, ""), "")
    for entry in _each_translation(raw, kind):
        # Not translated yet: the translation shows the original until someone does.
        entry[kind] = [*entry[kind], original]


def add_item(actor, episode: Episode, kind: str, values: dict) -> None:
    _require_editor(actor)
    raw = document(episode)
    _append_item(raw, kind, values)
    if kind == "chapters":
        _sort_chapters(raw)
    _save(actor, raw, "catalog.episode_updated",
          {"episode": episode.slug, "change": f"{KINDS[kind]} added"})


def update_page(
    actor, episode: Episode, fields: EpisodeFields, items: dict[str, dict[int, dict]],
    added: dict[str, dict] | None = None,
) -> Episode:
    """Everything the editor page holds, saved at once: the fields, every item as typed
    (`items[kind][index]`), and the new items filled in (`added[kind]`). One check by
    the file's rules, one transaction, one audit entry."""
    _require_editor(actor)
    raw = _apply_fields(document(episode), fields)
    other = _slug_taken(raw.get("slug", ""), episode)
    if other is not None:
        raise EditError([_("The slug is used by episode %(number)s already.", number=other.number)], "slug")
    for kind, by_index in items.items():
        current = _items(raw, kind)
        for index, values in by_index.items():
            _check_index(current, index, kind)
            current[index - 1] = _clean_item(kind, values)
        _set_items(raw, kind, current)
    for kind, values in (added or {}).items():
        _append_item(raw, kind, values)
    _sort_chapters(raw)
    _save(
        actor, raw, "catalog.episode_updated", {"episode": raw.get("slug"), "change": "page saved"},
        rename=episode,
    )
    return episode


def update_item(actor, episode: Episode, kind: str, index: int, values: dict) -> None:
    _require_editor(actor)
    raw = document(episode)
    items = _items(raw, kind)
    _check_index(items, index, kind)
    items[index - 1] = _clean_item(kind, values)
    _set_items(raw, kind, items)
    if kind == "chapters":
        _sort_chapters(raw)
    _save(actor, raw, "catalog.episode_updated",
          {"episode": episode.slug, "change": f"{KINDS[kind]} {index} edited"})


def move_item(actor, episode: Episode, kind: str, index: int, direction: str) -> None:
    _require_editor(actor)
    if direction not in ("up", "down") or kind == "chapters":
        raise DomainError(_("Items move up or down; chapters keep time order."))
    other = index - 1 if direction == "up" else index + 1
    if kind == "questions":
        _move_question(actor, episode, index, other)
        return
    raw = document(episode)
    items = _items(raw, kind)
    _check_index(items, index, kind)
    if not 1 <= other <= len(items):
        return
    items[index - 1], items[other - 1] = items[other - 1], items[index - 1]
    _set_items(raw, kind, items)
    for entry in _each_translation(raw, kind):
        texts = entry[kind]
        texts[index - 1], texts[other - 1] = texts[other - 1], texts[index - 1]
    _save(actor, raw, "catalog.episode_updated",
          {"episode": episode.slug, "change": f"{KINDS[kind]} {index} moved {direction}"})


def delete_item(actor, episode: Episode, kind: str, index: int) -> None:
    _require_editor(actor)
    if kind == "questions":
        _delete_question(actor, episode, index)
        return
    raw = document(episode)
    items = _items(raw, kind)
    _check_index(items, index, kind)
    del items[index - 1]
    _set_items(raw, kind, items)
    for entry in _each_translation(raw, kind):
        del entry[kind][index - 1]
        if not entry[kind]:
            del entry[kind]
    _save(actor, raw, "catalog.episode_updated",
          {"episode": episode.slug, "change": f"{KINDS[kind]} {index} deleted"})


# Questions move as rows: answers point at the row, so they go wherever it goes.


def _questions(episode: Episode) -> list[StudyQuestion]:
    return list(
        db.session.scalars(
            select(StudyQuestion)
            .where(StudyQuestion.episode_id == episode.id)
            .order_by(StudyQuestion.position)
        )
    )


def _move_question(actor, episode: Episode, index: int, other: int) -> None:
    questions = _questions(episode)
    _check_index(questions, index, "questions")
    if not 1 <= other <= len(questions):
        return
    first, second = questions[index - 1], questions[other - 1]
    first_position, second_position = first.position, second.position
    # (episode, position) is unique: park one question while they swap.
    first.position = -first.id
    db.session.flush()
    second.position = first_position
    db.session.flush()
    first.position = second_position
    audit.record(
        actor, "catalog.episode_updated",
        details={"episode": episode.slug, "change": f"question {index} moved to {other}"},
    )
    db.session.commit()
    db.session.expire(episode)


def _delete_question(actor, episode: Episode, index: int) -> None:
    questions = _questions(episode)
    _check_index(questions, index, "questions")
    question = questions[index - 1]
    answered = db.session.scalar(
        select(func.count()).where(Answer.study_question_id == question.id)
    )
    if answered:
        raise Conflict(
            ngettext(
                "Question %(index)s has %(num)d answer; deleting it would delete it. Change its "
                "wording instead: the answers keep the wording they answered.",
                "Question %(index)s has %(num)d answers; deleting it would delete them. Change "
                "its wording instead: the answers keep the wording they answered.",
                answered,
                index=index,
            )
        )
    db.session.execute(
        ContentTranslation.__table__.delete().where(
            ContentTranslation.entity == "question", ContentTranslation.entity_id == question.id
        )
    )
    db.session.delete(question)
    db.session.flush()
    for later in questions[index:]:
        later.position -= 1
        db.session.flush()
    audit.record(
        actor, "catalog.episode_updated",
        details={"episode": episode.slug, "change": f"question {index} deleted"},
    )
    db.session.commit()
    db.session.expire(episode)


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
