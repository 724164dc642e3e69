"""The catalog as the catalog file: what `load-catalog` reads, so export then load changes nothing."""

from dataclasses import dataclass
from pathlib import Path

import tomli_w
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.catalog.service import TRANSLATABLE_LANGUAGES, format_duration
from coprod_study.extensions import db
from coprod_study.models import (
    Chapter,
    ContentTranslation,
    Dimension,
    Episode,
    EpisodeGuest,
    Transcript,
)

TRANSCRIPT_FOLDER = "transcripts"
HEADER = (
    "# The episode catalog, written by `coprod-study export-catalog`.\n"
    "# Load it with `coprod-study load-catalog FILE`; the format is described in README.md.\n\n"
)


def _put(table: dict, key: str, value) -> None:
    """Leave out what the loader reads as empty anyway (TOML has no null)."""
    if value is None or value == "" or value == []:
        return
    table[key] = value


def dimensions_document() -> list[dict]:
    items = db.session.scalars(
        select(Dimension)
        .options(selectinload(Dimension.relates_to))
        .order_by(Dimension.position, Dimension.id)
    )
    out = []
    for dimension in items:
        table = {"slug": dimension.slug, "name": dimension.name}
        _put(table, "description", dimension.description)
        table["related"] = [d.slug for d in dimension.relates_to]
        out.append(table)
    return out


def _episodes_stmt():
    return select(Episode).options(
        selectinload(Episode.dimension),
        selectinload(Episode.related_dimensions),
        selectinload(Episode.guests).selectinload(EpisodeGuest.person),
        selectinload(Episode.takeaways),
        selectinload(Episode.questions),
        selectinload(Episode.references),
    )


def _translations(episode: Episode, chapters: list[Chapter]) -> dict:
    """Per language: title, summary and the lists the file keeps in step with the episode's."""
    objects = {
        "episode": [episode.id],
        "takeaway": [t.id for t in episode.takeaways],
        "question": [q.id for q in episode.questions],
        "chapter": [c.id for c in chapters],
    }
    rows = {}
    for entity, ids in objects.items():
        if not ids:
            continue
        for row in db.session.scalars(
            select(ContentTranslation).where(
                ContentTranslation.entity == entity, ContentTranslation.entity_id.in_(ids)
            )
        ):
            rows[(row.entity, row.entity_id, row.field, row.language)] = row.text
    out = {}
    for language in TRANSLATABLE_LANGUAGES:
        entry: dict = {}
        _put(entry, "title", rows.get(("episode", episode.id, "title", language)))
        _put(entry, "summary", rows.get(("episode", episode.id, "summary", language)))
        for key, entity, field, items, original in (
            ("takeaways", "takeaway", "text", episode.takeaways, lambda t: t.text),
            ("questions", "question", "prompt", episode.questions, lambda q: q.prompt),
            ("chapters", "chapter", "title", chapters, lambda c: c.title),
        ):
            texts = [rows.get((entity, item.id, field, language)) for item in items]
            if any(text is not None for text in texts):
                # The file lists every item; one never translated reads as the original.
                entry[key] = [
                    text if text is not None else original(item)
                    for text, item in zip(texts, items, strict=True)
                ]
        if entry:
            out[language] = entry
    return out


def episode_document(
    episode: Episode, *, transcripts: dict[str, str] | None = None, sample: bool | None = None
) -> dict:
    """One [[episodes]] table. `transcripts` maps language to the file it was written to;
    `sample` is written when the whole catalog does not say it already."""
    chapters = list(
        db.session.scalars(
            select(Chapter).where(Chapter.episode_id == episode.id).order_by(Chapter.position)
        )
    )
    table: dict = {
        "slug": episode.slug,
        "number": episode.number,
        "title": episode.title,
        "dimension": episode.dimension.slug,
        "related_dimensions": [d.slug for d in episode.related_dimensions],
    }
    _put(table, "published", episode.published_on)
    _put(table, "audio_url", episode.audio_url)
    if episode.duration_seconds is not None:
        table["duration"] = format_duration(episode.duration_seconds)
    _put(table, "host", episode.host_name)
    if sample is not None:
        table["sample"] = sample
    _put(table, "summary", episode.summary)
    if transcripts:
        table["transcripts"] = dict(sorted(transcripts.items()))
    _put(
        table,
        "guests",
        [
            {"name": g.person.name, **({"bio": g.person.bio} if g.person.bio else {})}
            for g in episode.guests
        ],
    )
    _put(table, "takeaways", [{"kind": t.kind, "text": t.text} for t in episode.takeaways])
    _put(
        table,
        "questions",
        [{"prompt": q.prompt, "audiences": list(q.audiences or [])} for q in episode.questions],
    )
    references = []
    for reference in episode.references:
        item = {"citation": reference.citation}
        _put(item, "url", reference.url)
        _put(item, "doi", reference.doi)
        references.append(item)
    _put(table, "references", references)
    _put(
        table,
        "chapters",
        [{"title": c.title, "start": format_duration(c.start_seconds)} for c in chapters],
    )
    translations = _translations(episode, chapters)
    if translations:
        table["translations"] = translations
    return table


@dataclass
class ExportResult:
    episodes: int
    transcripts: int


def catalog_document(transcript_dir: Path | None = None) -> tuple[dict, int]:
    """The whole catalog; transcripts are written as files into `transcript_dir` when given."""
    episodes = list(db.session.scalars(_episodes_stmt().order_by(Episode.number)))
    all_sample = bool(episodes) and all(e.is_sample for e in episodes)
    mixed = len({e.is_sample for e in episodes}) > 1
    header = {"title": current_app.config["SITE_NAME"]}
    if all_sample:
        header["sample"] = True
    written = 0
    tables = []
    for episode in episodes:
        files = {}
        if transcript_dir is not None:
            for transcript in db.session.scalars(
                select(Transcript)
                .where(Transcript.episode_id == episode.id)
                .order_by(Transcript.language)
            ):
                name = f"{episode.slug}.{transcript.language}.vtt"
                transcript_dir.mkdir(parents=True, exist_ok=True)
                (transcript_dir / name).write_text(transcript.vtt, encoding="utf-8")
                files[transcript.language] = f"{transcript_dir.name}/{name}"
                written += 1
        tables.append(
            episode_document(
                episode, transcripts=files, sample=episode.is_sample if mixed else None
            )
        )
    document = {"catalog": header, "dimensions": dimensions_document(), "episodes": tables}
    return document, written


def dumps(document: dict) -> str:
    return HEADER + tomli_w.dumps(document, multiline_strings=True, indent=2)


def export_catalog(path: str | Path) -> ExportResult:
    """Write the catalog file at `path`, and its transcripts into transcripts/ beside it."""
    path = Path(path)
    document, written = catalog_document(path.parent / TRANSCRIPT_FOLDER)
    text = dumps(document)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    return ExportResult(len(document["episodes"]), written)
