"""Writing an import: matching episodes, numbering new ones, guests, transcripts, chapters."""

import re
import unicodedata

from flask import current_app
from sqlalchemy import func, select

from coprod_study.catalog.feed_import.items import (
    UNCATEGORISED,
    Extras,
    FeedError,
    FeedItem,
    FeedResult,
)
from coprod_study.catalog.feed_import.parsing import _truncate
from coprod_study.catalog.service.loading import _set
from coprod_study.extensions import db
from coprod_study.markup import render_markdown
from coprod_study.models import (
    Chapter,
    Dimension,
    Episode,
    EpisodeGuest,
    Person,
    Transcript,
    TranscriptSegment,
)

# --- Writing -------------------------------------------------------------------------


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:70].rstrip("-") or "episode"


def _unique_slug(title: str, taken: set[str]) -> str:
    base = slugify(title)
    slug, counter = base, 2
    while slug in taken:
        slug = f"{base}-{counter}"
        counter += 1
    taken.add(slug)
    return slug


def _dimension_for_new_episodes(session) -> Dimension:
    """The dimension named by FEED_DIMENSION, else "Uncategorised" (made when missing)."""
    wanted = current_app.config.get("FEED_DIMENSION")
    if wanted:
        dimension = session.scalar(select(Dimension).where(Dimension.slug == wanted))
        if dimension is None:
            raise FeedError([f'FEED_DIMENSION names "{wanted}", but there is no such dimension.'])
        return dimension
    dimension = session.scalar(select(Dimension).where(Dimension.slug == UNCATEGORISED["slug"]))
    if dimension is None:
        last = session.scalar(select(func.max(Dimension.position))) or 0
        dimension = Dimension(
            slug=UNCATEGORISED["slug"],
            name=UNCATEGORISED["name"],
            description=UNCATEGORISED["description"],
            description_html=str(render_markdown(UNCATEGORISED["description"])),
            position=last + 1,
        )
        session.add(dimension)
        session.flush()
    return dimension


def _match_episodes(session, items: list[FeedItem]) -> dict[int, Episode]:
    """Item index -> existing episode: by GUID, else a GUID-less episode with the same audio or title.

    The second rule lets a catalog loaded from a catalog file (which has no
    GUIDs) be joined to the feed instead of being duplicated by it.
    """
    by_guid = {
        e.guid: e
        for e in session.scalars(select(Episode).where(Episode.guid.in_([i.guid for i in items])))
    }
    unclaimed = list(session.scalars(select(Episode).where(Episode.guid.is_(None)).order_by(Episode.number)))
    matched: dict[int, Episode] = {}
    for index, item in enumerate(items):
        episode = by_guid.get(item.guid)
        if episode is None:
            episode = next(
                (e for e in unclaimed if item.audio_url and e.audio_url == item.audio_url), None
            ) or next((e for e in unclaimed if e.title == item.title), None)
            if episode is not None:
                unclaimed.remove(episode)
        if episode is not None:
            matched[index] = episode
    return matched


def _plan_numbers(session, items, matched, notes) -> dict[int, int]:
    """Item index -> episode number: the feed's itunes:episode when free, else the next free one."""
    in_feed = {episode.id for episode in matched.values()}
    current = {episode.id: episode.number for episode in matched.values()}
    used = {
        number
        for episode_id, number in session.execute(select(Episode.id, Episode.number))
        if episode_id not in in_feed
    }
    plan: dict[int, int] = {}
    for index, item in enumerate(items):
        if item.number is not None and item.number not in used:
            plan[index] = item.number
            used.add(item.number)
    for index in range(len(items)):
        episode = matched.get(index)
        if index not in plan and episode is not None and current[episode.id] not in used:
            plan[index] = current[episode.id]
            used.add(current[episode.id])
    next_free = max(used | {0}) + 1
    for index, item in enumerate(items):
        if index in plan:
            continue
        while next_free in used:
            next_free += 1
        plan[index] = next_free
        used.add(next_free)
        if item.number is not None:
            notes.append(
                f'"{item.title[:60]}": episode number {item.number} is taken; '
                f"numbered {next_free} instead."
            )
    return plan


def _apply(items: list[FeedItem], extras: list[Extras], result: FeedResult) -> None:
    session = db.session
    matched = _match_episodes(session, items)
    numbers = _plan_numbers(session, items, matched, result.notes)
    # Episode numbers are unique: park the ones that move on a free (negative)
    # number first, so two episodes can trade numbers in one import.
    moving = [e for i, e in matched.items() if e.number != numbers[i]]
    for episode in moving:
        episode.number = -episode.id
    if moving:
        session.flush()

    slugs = set(session.scalars(select(Episode.slug)))
    people = {p.name: p for p in session.scalars(select(Person))}
    dimension = None
    for index, item in enumerate(items):
        episode = matched.get(index)
        is_new = episode is None
        if is_new:
            dimension = dimension or _dimension_for_new_episodes(session)
            episode = Episode(
                slug=_unique_slug(item.title, slugs),
                number=numbers[index],
                title=item.title,
                dimension=dimension,
                guid=item.guid,
            )
            session.add(episode)
            session.flush()
        changed = _set(episode, guid=item.guid, number=numbers[index], title=item.title)
        # The feed updates what it carries and leaves the rest as it was.
        if item.summary is not None:
            changed |= _set(
                episode, summary=item.summary, summary_html=str(render_markdown(item.summary))
            )
        for name in ("published_on", "audio_url", "duration_seconds"):
            value = getattr(item, name)
            if value is not None:
                changed |= _set(episode, **{name: value})
        if item.hosts:
            changed |= _set(episode, host_name=_truncate(", ".join(item.hosts), 120))
        if item.guests is not None:
            changed |= _apply_guests(session, episode, item.guests, people)
        stored_transcripts = _apply_transcripts(session, episode, extras[index].transcripts)
        result.transcripts += stored_transcripts
        chapters_changed = extras[index].chapters is not None and _apply_chapters(
            session, episode, extras[index].chapters
        )
        result.chapters += int(chapters_changed)
        changed |= bool(stored_transcripts) or chapters_changed
        if is_new:
            result.created += 1
        elif changed:
            result.updated += 1
        else:
            result.unchanged += 1
    session.flush()


def _apply_guests(session, episode: Episode, names: list[str], people: dict) -> bool:
    for name in names:
        if name not in people:
            # A feed carries no bios; a person's bio comes from the catalog file.
            people[name] = Person(name=name, bio="")
            session.add(people[name])
    wanted = [people[name] for name in names]
    if [guest.person for guest in episode.guests] == wanted:
        return False
    episode.guests.clear()
    session.flush()
    for position, person in enumerate(wanted, start=1):
        episode.guests.append(EpisodeGuest(person=person, position=position))
    return True


def _apply_transcripts(session, episode: Episode, transcripts: dict) -> int:
    stored = 0
    for language, (vtt, segments) in sorted(transcripts.items()):
        transcript = session.scalar(
            select(Transcript).where(
                Transcript.episode_id == episode.id, Transcript.language == language
            )
        )
        if transcript is not None and transcript.vtt == vtt:
            continue
        if transcript is None:
            transcript = Transcript(episode_id=episode.id, language=language, vtt=vtt)
            session.add(transcript)
        else:
            transcript.vtt = vtt
            transcript.segments.clear()
        session.flush()
        for position, segment in enumerate(segments, start=1):
            transcript.segments.append(
                TranscriptSegment(
                    position=position,
                    start_ms=segment.start_ms,
                    end_ms=segment.end_ms,
                    speaker=segment.speaker,
                    text=segment.text,
                )
            )
        stored += 1
    return stored


def _apply_chapters(session, episode: Episode, chapters: list[tuple[str, int]]) -> bool:
    current = session.scalars(
        select(Chapter).where(Chapter.episode_id == episode.id).order_by(Chapter.position)
    ).all()
    if [(c.title, c.start_seconds) for c in current] == chapters:
        return False
    for chapter in current:
        session.delete(chapter)
    session.flush()
    session.add_all(
        Chapter(episode_id=episode.id, position=position, title=title, start_seconds=start)
        for position, (title, start) in enumerate(chapters, start=1)
    )
    return True
