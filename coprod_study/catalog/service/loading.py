"""Loading a validated catalog: create or update episodes, guests, questions and extras by slug."""

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select

from coprod_study.catalog.service.validation import CatalogError, read_file
from coprod_study.extensions import db
from coprod_study.markup import render_markdown
from coprod_study.models import (
    Dimension,
    Episode,
    EpisodeGuest,
    Person,
    Reference,
    StudyQuestion,
    Takeaway,
)


@dataclass
class LoadResult:
    created: int
    updated: int
    unchanged: int


def sample_catalog_path() -> Path:
    return Path(str(resources.files("coprod_study.catalog").joinpath("sample_catalog.toml")))


def _set(obj, **values) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def apply(data: dict) -> LoadResult:
    """Create or update everything in `data` in the current transaction and commit once."""
    session = db.session
    try:
        result = _apply(session, data)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return result


def _apply(session, data: dict) -> LoadResult:
    dimensions = {d.slug: d for d in session.scalars(select(Dimension))}
    for item in data["dimensions"]:
        dimension = dimensions.get(item["slug"])
        if dimension is None:
            dimension = Dimension(slug=item["slug"])
            session.add(dimension)
            dimensions[item["slug"]] = dimension
        _set(
            dimension,
            name=item["name"],
            description=item["description"],
            description_html=str(render_markdown(item["description"])),
            position=item["position"],
        )
    for item in data["dimensions"]:
        wanted = [dimensions[slug] for slug in item["related"]]
        # Compared as sets: the relationship reads back ordered by position.
        if {d.slug for d in dimensions[item["slug"]].relates_to} != set(item["related"]):
            dimensions[item["slug"]].relates_to = wanted

    people = {p.name: p for p in session.scalars(select(Person))}
    existing = {e.slug: e for e in session.scalars(select(Episode))}
    _make_room_for_numbers(session, existing, data["episodes"])
    created = updated = unchanged = 0
    session.flush()
    for item in data["episodes"]:
        episode = existing.get(item["slug"])
        is_new = episode is None
        if is_new:
            episode = Episode(slug=item["slug"], number=item["number"])
            session.add(episode)
        changed = _set(
            episode,
            number=item["number"],
            title=item["title"],
            dimension=dimensions[item["dimension"]],
            summary=item["summary"],
            summary_html=str(render_markdown(item["summary"])),
            published_on=item["published_on"],
            audio_url=item["audio_url"],
            duration_seconds=item["duration_seconds"],
            host_name=item["host_name"],
            is_sample=item["is_sample"],
        )
        related = [dimensions[slug] for slug in item["related_dimensions"]]
        # Compared as sets: the relationship reads back ordered by position.
        if {d.slug for d in episode.related_dimensions} != set(item["related_dimensions"]):
            episode.related_dimensions = related
            changed = True
        changed |= _apply_guests(session, episode, item["guests"], people)
        changed |= _replace_list(episode.takeaways, item["takeaways"], Takeaway, ("kind", "text"))
        changed |= _apply_questions(episode, item["questions"])
        changed |= _replace_list(
            episode.references, item["references"], Reference, ("citation", "url", "doi")
        )
        session.flush()
        changed |= _apply_extras(session, episode, item)
        if is_new:
            created += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
    return LoadResult(created, updated, unchanged)


def _make_room_for_numbers(session, existing: dict, items: list[dict]) -> None:
    """Refuse numbers held by episodes outside the file; park the ones that move.

    Episode numbers are unique, so swapping two of them in one load would trip
    the constraint halfway; moving the changing episodes to a free (negative)
    number first lets the load set the new numbers in any order.
    """
    in_file = {item["slug"] for item in items}
    held = {e.number: e.slug for e in existing.values() if e.slug not in in_file}
    clashes = [
        f'episode "{item["slug"]}": number {item["number"]} is used by episode '
        f'"{held[item["number"]]}", which is not in this file'
        for item in items
        if item["number"] in held
    ]
    if clashes:
        raise CatalogError(clashes)
    moving = [
        existing[item["slug"]]
        for item in items
        if item["slug"] in existing and existing[item["slug"]].number != item["number"]
    ]
    for episode in moving:
        episode.number = -episode.id
    if moving:
        session.flush()


def _apply_guests(session, episode: Episode, guests: list[dict], people: dict) -> bool:
    changed = False
    for guest in guests:
        person = people.get(guest["name"])
        if person is None:
            person = Person(name=guest["name"], bio=guest["bio"])
            session.add(person)
            people[guest["name"]] = person
            changed = True
        elif person.bio != guest["bio"]:
            person.bio = guest["bio"]
            changed = True
    wanted = [people[g["name"]] for g in guests]
    if [g.person for g in episode.guests] != wanted:
        episode.guests.clear()
        session.flush()
        for position, person in enumerate(wanted, start=1):
            episode.guests.append(EpisodeGuest(person=person, position=position))
        changed = True
    return changed


def _replace_list(current: list, wanted: list[dict], model, fields: tuple[str, ...]) -> bool:
    if [tuple(getattr(obj, f) for f in fields) for obj in current] == [
        tuple(item[f] for f in fields) for item in wanted
    ]:
        return False
    current.clear()
    for item in wanted:
        current.append(model(position=item["position"], **{f: item[f] for f in fields}))
    return True


def _apply_questions(episode: Episode, wanted: list[dict]) -> bool:
    # Questions are updated in place by position: answers point at them.
    changed = False
    by_position = {q.position: q for q in episode.questions}
    for item in wanted:
        question = by_position.pop(item["position"], None)
        if question is None:
            episode.questions.append(
                StudyQuestion(
                    position=item["position"], prompt=item["prompt"], audiences=item["audiences"]
                )
            )
            changed = True
        else:
            changed |= _set(question, prompt=item["prompt"], audiences=item["audiences"])
    for surplus in by_position.values():
        episode.questions.remove(surplus)
        changed = True
    return changed


def load_file(path: str | Path) -> LoadResult:
    return apply(read_file(path))


def catalog_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Episode))


def load_sample_if_empty() -> LoadResult | None:
    if not catalog_is_empty():
        return None
    return load_file(sample_catalog_path())


def _apply_extras(session, episode: Episode, item: dict) -> bool:
    from coprod_study.models import Chapter, ContentTranslation, Transcript, TranscriptSegment

    changed = False
    chapters = session.scalars(
        select(Chapter).where(Chapter.episode_id == episode.id).order_by(Chapter.position)
    ).all()
    if [(c.title, c.start_seconds) for c in chapters] != [
        (c["title"], c["start_seconds"]) for c in item.get("chapters", [])
    ]:
        for chapter in chapters:
            session.delete(chapter)
        session.flush()
        chapters = [
            Chapter(episode_id=episode.id, position=c["position"], title=c["title"], start_seconds=c["start_seconds"])
            for c in item.get("chapters", [])
        ]
        session.add_all(chapters)
        session.flush()
        changed = True

    for language, transcript_data in item.get("transcripts", {}).items():
        transcript = session.scalar(
            select(Transcript).where(Transcript.episode_id == episode.id, Transcript.language == language)
        )
        if transcript is not None and transcript.vtt == transcript_data["vtt"]:
            continue
        if transcript is None:
            transcript = Transcript(episode_id=episode.id, language=language, vtt=transcript_data["vtt"])
            session.add(transcript)
        else:
            transcript.vtt = transcript_data["vtt"]
            transcript.segments.clear()
        session.flush()
        for position, segment in enumerate(transcript_data["segments"], start=1):
            transcript.segments.append(
                TranscriptSegment(
                    position=position, start_ms=segment.start_ms, end_ms=segment.end_ms,
                    speaker=segment.speaker, text=segment.text,
                )
            )
        changed = True

    wanted: dict[tuple, str] = {}
    for language, entry in item.get("translations", {}).items():
        if entry["title"]:
            wanted[("episode", episode.id, "title", language)] = entry["title"]
        if entry["summary"]:
            wanted[("episode", episode.id, "summary", language)] = entry["summary"]
        for key, entity, field, objects in (
            ("takeaways", "takeaway", "text", episode.takeaways),
            ("questions", "question", "prompt", episode.questions),
            ("chapters", "chapter", "title", chapters),
        ):
            for obj, text in zip(objects, entry.get(key) or [], strict=False):
                wanted[(entity, obj.id, field, language)] = text
    if wanted or item.get("translations") is not None:
        ids = {
            "episode": [episode.id],
            "takeaway": [t.id for t in episode.takeaways],
            "question": [q.id for q in episode.questions],
            "chapter": [c.id for c in chapters],
        }
        existing = {
            (t.entity, t.entity_id, t.field, t.language): t
            for entity, entity_ids in ids.items()
            for t in session.scalars(
                select(ContentTranslation).where(
                    ContentTranslation.entity == entity, ContentTranslation.entity_id.in_(entity_ids)
                )
            )
        }
        for key, text in wanted.items():
            row = existing.pop(key, None)
            if row is None:
                entity, entity_id, field, language = key
                session.add(
                    ContentTranslation(entity=entity, entity_id=entity_id, field=field, language=language, text=text)
                )
                changed = True
            elif row.text != text:
                row.text = text
                changed = True
        for row in existing.values():
            session.delete(row)
            changed = True
    return changed
