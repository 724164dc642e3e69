"""The catalog file: read, validate as a whole, then create or update by slug."""

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from sqlalchemy import func, select

from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.markup import render_markdown
from coprod_study.models import (
    AUDIENCES,
    TAKEAWAY_KINDS,
    Dimension,
    Episode,
    EpisodeGuest,
    ListeningProgress,
    Person,
    Reference,
    StudyQuestion,
    Takeaway,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
# "/static/audio/x.mp3", never "//host/..." (another site) or "/a b" (not one path).
SITE_PATH_RE = re.compile(r"^/(?!/)\S*$")
DURATION_RE = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)$")
MAX_TEXT = 20_000


class CatalogError(DomainError):
    """A catalog file that cannot be loaded; `problems` names each one."""

    def __init__(self, problems: list[str]):
        super().__init__("The catalog file has problems:\n" + "\n".join(problems))
        self.problems = problems


@dataclass
class LoadResult:
    created: int
    updated: int
    unchanged: int


def sample_catalog_path() -> Path:
    return Path(str(resources.files("coprod_study.catalog").joinpath("sample_catalog.toml")))


def parse_duration(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = DURATION_RE.match(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    raise ValueError("duration must be mm:ss, h:mm:ss or whole seconds")


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Checker:
    """Collects every problem in a file so the editor can fix them in one go."""

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, where, data, key, *, required=True, max_length=MAX_TEXT) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(where, f"empty {key}")
            return None
        if not isinstance(value, str):
            self.problem(where, f"{key} must be text")
            return None
        if len(value) > max_length:
            self.problem(where, f"{key} is longer than {max_length} characters")
            return None
        return value.strip()

    def url(self, where, data, key) -> str | None:
        value = self.text(where, data, key, required=False, max_length=500)
        if value and not re.match(r"^https?://[^\s/]+\S*$", value):
            self.problem(where, f"{key} must be an http(s) URL")
            return None
        return value

    def audio_url(self, where, data, key) -> str | None:
        """An http(s) URL, or a path on this site (the packaged sample audio)."""
        value = self.text(where, data, key, required=False, max_length=500)
        if value and not (re.match(r"^https?://[^\s/]+\S*$", value) or SITE_PATH_RE.match(value)):
            self.problem(where, f"{key} must be an http(s) URL or a path on this site")
            return None
        return value


def validate(document: dict, base_dir: Path | None = None) -> dict:
    """Check the whole document; return cleaned data or raise CatalogError."""
    check = _Checker()
    if not isinstance(document, dict):
        raise CatalogError(["the file must be a table of dimensions and episodes"])
    raw_dimensions = document.get("dimensions", [])
    raw_episodes = document.get("episodes", [])
    if not isinstance(raw_dimensions, list) or not isinstance(raw_episodes, list):
        raise CatalogError(["dimensions and episodes must be lists ([[dimensions]], [[episodes]])"])
    if not raw_episodes:
        check.problem("catalog", "no episodes")

    dimensions = []
    dimension_slugs: set[str] = set()
    for index, raw in enumerate(raw_dimensions, start=1):
        slug = raw.get("slug") if isinstance(raw, dict) else None
        where = f'dimension "{slug}"' if isinstance(slug, str) else f"dimension {index}"
        if not isinstance(raw, dict):
            check.problem(where, "must be a table")
            continue
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            check.problem(where, "slug must be lowercase letters, digits and hyphens")
        elif slug in dimension_slugs:
            check.problem(where, "slug used twice")
        dimension_slugs.add(slug)
        related = raw.get("related", [])
        if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
            check.problem(where, "related must be a list of dimension slugs")
            related = []
        dimensions.append(
            {
                "slug": slug,
                "name": check.text(where, raw, "name", max_length=120),
                "description": check.text(where, raw, "description", required=False) or "",
                "related": related,
                "position": index,
            }
        )
    for item in dimensions:
        for other in item["related"]:
            if other not in dimension_slugs:
                check.problem(f'dimension "{item["slug"]}"', f'related dimension "{other}" is not defined')
            elif other == item["slug"]:
                check.problem(f'dimension "{item["slug"]}"', "a dimension cannot relate to itself")

    episodes = []
    episode_slugs: set[str] = set()
    numbers: set[int] = set()
    guest_bios: dict[str, tuple[str, str]] = {}
    for index, raw in enumerate(raw_episodes, start=1):
        slug = raw.get("slug") if isinstance(raw, dict) else None
        where = f'episode "{slug}"' if isinstance(slug, str) and slug else f"episode {index}"
        if not isinstance(raw, dict):
            check.problem(where, "must be a table")
            continue
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            check.problem(where, "slug must be lowercase letters, digits and hyphens")
        elif slug in episode_slugs:
            check.problem(where, "slug used twice")
        episode_slugs.add(slug)
        number = raw.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            check.problem(where, "number must be a positive whole number")
        elif number in numbers:
            check.problem(where, f"number {number} used twice")
        else:
            numbers.add(number)
        dimension = raw.get("dimension")
        if dimension not in dimension_slugs:
            check.problem(where, f'dimension "{dimension}" is not defined')
        related = raw.get("related_dimensions", [])
        if not isinstance(related, list) or any(r not in dimension_slugs for r in related):
            check.problem(where, "related_dimensions must list defined dimension slugs")
            related = []
        published = raw.get("published")
        if published is not None and not isinstance(published, date):
            check.problem(where, "published must be a date such as 2024-03-05")
            published = None
        duration = None
        if raw.get("duration") is not None:
            try:
                duration = parse_duration(raw["duration"])
            except ValueError as error:
                check.problem(where, str(error))
        episode = {
            "slug": slug,
            "number": number,
            "title": check.text(where, raw, "title", max_length=200),
            "dimension": dimension,
            "related_dimensions": [r for r in related if r != dimension],
            "published_on": published,
            "audio_url": check.audio_url(where, raw, "audio_url"),
            "duration_seconds": duration,
            "host_name": check.text(where, raw, "host", required=False, max_length=120),
            "summary": check.text(where, raw, "summary", required=False) or "",
            "is_sample": bool(raw.get("sample", document.get("catalog", {}).get("sample", False))),
            "guests": [],
            "takeaways": [],
            "questions": [],
            "references": [],
        }
        for kind in ("guests", "takeaways", "questions", "references"):
            items = raw.get(kind, [])
            if not isinstance(items, list):
                check.problem(where, f"{kind} must be a list")
                items = []
            for position, item in enumerate(items, start=1):
                label = f"{where}: {kind[:-1]} {position}"
                if not isinstance(item, dict):
                    check.problem(label, "must be a table")
                    continue
                episode[kind].append(_validate_item(check, kind, label, item, position))
        episode.update(_validate_extras(check, where, raw, episode, base_dir))
        if not episode["questions"] and "questions" in raw:
            check.problem(where, "questions is empty")
        _check_guests(check, where, episode["guests"], guest_bios)
        episodes.append(episode)

    if check.problems:
        raise CatalogError(check.problems)
    # A guest is one person: an episode that leaves the bio out uses the one
    # given elsewhere (otherwise each load would flip the bio back and forth).
    for episode in episodes:
        for guest in episode["guests"]:
            if not guest["bio"] and guest["name"] in guest_bios:
                guest["bio"] = guest_bios[guest["name"]][0]
    return {"dimensions": dimensions, "episodes": episodes}


def _check_guests(check: _Checker, where: str, guests: list[dict], bios: dict) -> None:
    """One person once per episode, and with one bio across the whole file."""
    names: set[str] = set()
    for position, guest in enumerate(guests, start=1):
        name = guest["name"]
        if name is None:
            continue
        label = f"{where}: guest {position}"
        if name in names:
            check.problem(label, f'"{name}" is listed twice')
        names.add(name)
        if guest["bio"]:
            bio, first_seen = bios.setdefault(name, (guest["bio"], where))
            if bio != guest["bio"]:
                check.problem(label, f'"{name}" has a different bio in {first_seen}')


def _validate_item(check: _Checker, kind: str, label: str, item: dict, position: int) -> dict:
    if kind == "guests":
        return {
            "name": check.text(label, item, "name", max_length=120),
            "bio": check.text(label, item, "bio", required=False, max_length=2000) or "",
        }
    if kind == "takeaways":
        item_kind = item.get("kind")
        if item_kind not in TAKEAWAY_KINDS:
            check.problem(label, f"kind must be one of {', '.join(TAKEAWAY_KINDS)}")
        return {"position": position, "kind": item_kind, "text": check.text(label, item, "text")}
    if kind == "questions":
        audiences = item.get("audiences", [])
        if not isinstance(audiences, list) or any(a not in AUDIENCES for a in audiences):
            check.problem(label, f"audiences must be chosen from {', '.join(AUDIENCES)}")
            audiences = []
        return {
            "position": position,
            "prompt": check.text(label, item, "prompt"),
            "audiences": list(dict.fromkeys(audiences)),
        }
    doi = check.text(label, item, "doi", required=False, max_length=200)
    if doi and not DOI_RE.match(doi):
        check.problem(label, "doi must look like 10.1234/abc")
    return {
        "position": position,
        "citation": check.text(label, item, "citation"),
        "url": check.url(label, item, "url"),
        "doi": doi,
    }


def read_file(path: str | Path) -> dict:
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError as error:
        raise CatalogError([f"{path}: no such file"]) from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError([f"{path}: not valid TOML ({error})"]) from error
    return validate(document, Path(path).parent)


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


# --- Chapters, transcripts and translations -------------------------------------

TRANSLATABLE_LANGUAGES = ("sv", "en")


def _validate_extras(check: _Checker, where: str, raw: dict, episode: dict, base_dir) -> dict:
    chapters = []
    items = raw.get("chapters", [])
    if not isinstance(items, list):
        check.problem(where, "chapters must be a list")
        items = []
    last = -1
    for position, item in enumerate(items, start=1):
        label = f"{where}: chapter {position}"
        if not isinstance(item, dict):
            check.problem(label, "must be a table")
            continue
        title = check.text(label, item, "title", max_length=200)
        try:
            start = parse_duration(item.get("start"))
        except ValueError:
            check.problem(label, "start must be mm:ss or h:mm:ss")
            continue
        if start <= last:
            check.problem(label, "chapters must start in increasing order")
        if episode.get("duration_seconds") and start >= episode["duration_seconds"]:
            check.problem(label, "starts after the end of the episode")
        last = start
        chapters.append({"position": position, "title": title, "start_seconds": start})

    transcripts = {}
    raw_transcripts = raw.get("transcripts", {})
    if not isinstance(raw_transcripts, dict):
        check.problem(where, "transcripts must be a table of language = file")
        raw_transcripts = {}
    from coprod_study.catalog import transcript as transcript_service

    for language, relative in raw_transcripts.items():
        label = f"{where}: transcript {language}"
        if language not in transcript_service.TRANSCRIPT_LANGUAGES:
            check.problem(label, "unknown language")
            continue
        if base_dir is None or not isinstance(relative, str):
            check.problem(label, "must name a file next to the catalog file")
            continue
        path = (Path(base_dir) / relative).resolve()
        if not path.is_file() or Path(base_dir).resolve() not in path.parents:
            check.problem(label, f"no such file {relative!r} next to the catalog file")
            continue
        try:
            vtt, segments = transcript_service.parse(path.name, path.read_bytes())
        except DomainError as error:
            check.problem(label, f"{relative}: {error.message}")
            continue
        transcripts[language] = {"vtt": vtt, "segments": segments}

    translations = {}
    raw_translations = raw.get("translations", {})
    if not isinstance(raw_translations, dict):
        check.problem(where, "translations must be a table per language")
        raw_translations = {}
    for language, fields in raw_translations.items():
        label = f"{where}: translation {language}"
        if language not in TRANSLATABLE_LANGUAGES or not isinstance(fields, dict):
            check.problem(label, "must be a table for sv or en")
            continue
        entry = {
            "title": check.text(label, fields, "title", required=False, max_length=200),
            "summary": check.text(label, fields, "summary", required=False),
        }
        for key, count in (
            ("takeaways", len(episode["takeaways"])),
            ("questions", len(episode["questions"])),
            ("chapters", len(chapters)),
        ):
            values = fields.get(key)
            if values is None:
                entry[key] = None
                continue
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                check.problem(label, f"{key} must be a list of texts")
                values = None
            elif len(values) != count:
                check.problem(label, f"{key} has {len(values)} entries; the episode has {count}")
                values = None
            entry[key] = [v.strip() for v in values] if values else None
        translations[language] = entry
    return {"chapters": chapters, "transcripts": transcripts, "translations": translations}


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
