"""An episode's items (guests, takeaways, questions, references, chapters): add, save, move, delete."""

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from coprod_study import audit
from coprod_study.catalog import service as catalog
from coprod_study.catalog.editing.document import (
    KINDS,
    MISSING_ITEM,
    TRANSLATED,
    EditError,
    _require_editor,
    _save,
    document,
)
from coprod_study.catalog.editing.episode import EpisodeFields, _apply_fields, _slug_taken
from coprod_study.errors import Conflict, DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    ContentTranslation,
    Episode,
    Person,
    StudyQuestion,
)

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
