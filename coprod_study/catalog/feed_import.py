"""Import the podcast's RSS feed: episodes by GUID, guests, transcripts and chapters, all or nothing."""

import io
import json
import re
import unicodedata
import xml.etree.ElementTree as ET  # noqa: S405 (expat >= 2.4 refuses entity bombs; no external entities)
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from flask import current_app
from sqlalchemy import func, select

from coprod_study import audit
from coprod_study.catalog import fetch
from coprod_study.catalog import transcript as transcript_service
from coprod_study.catalog.service import MAX_TEXT, _set
from coprod_study.errors import DomainError
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

PODCAST_NAMESPACES = (
    "https://podcastindex.org/namespace/1.0",
    # The namespace's first address; readers must treat it as the same one.
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
)
MAX_FEED_BYTES = fetch.MAX_BYTES
MAX_CHAPTERS_BYTES = 1024 * 1024
MAX_CHAPTERS = 500
UNCATEGORISED = {
    "slug": "uncategorised",
    "name": "Uncategorised",
    "description": "Episodes imported from the podcast feed that have not been given a dimension yet.",
}
VTT_TYPES = {"text/vtt"}
SRT_TYPES = {"application/x-subrip", "application/srt", "text/srt"}
CHAPTERS_TYPES = {"application/json+chapters", "application/json"}
_URL_RE = re.compile(r"^https?://[^\s/]+\S*$")


class FeedError(DomainError):
    """A feed that cannot be imported; `problems` names each reason. Nothing was stored."""

    def __init__(self, problems: list[str]):
        message = problems[0] if len(problems) == 1 else "The feed has problems:\n" + "\n".join(problems)
        super().__init__(message)
        self.problems = problems


@dataclass
class FeedItem:
    """One <item>, checked and converted; None means "the feed does not say"."""

    guid: str
    title: str
    summary: str | None
    published_on: date | None
    audio_url: str | None
    duration_seconds: int | None
    number: int | None
    guests: list[str] | None
    hosts: list[str] | None
    transcripts: list[dict] = field(default_factory=list)
    chapters_url: str | None = None


@dataclass
class Extras:
    """What was fetched for an item: transcripts by language, chapters (None: not offered)."""

    transcripts: dict[str, tuple[str, list]] = field(default_factory=dict)
    chapters: list[tuple[str, int]] | None = None


@dataclass
class FeedResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    transcripts: int = 0
    chapters: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged; "
            f"{self.transcripts} transcript(s) and {self.chapters} chapter list(s) stored."
        )


# --- Reading -----------------------------------------------------------------------


def read_source(source: str) -> tuple[bytes, str | None]:
    """The feed's bytes from a URL (fetched safely) or a local file; returns (bytes, base URL)."""
    if "://" in source:
        # fetch() refuses every scheme but http and https (file://, ftp://, ...).
        body, _content_type = fetch.fetch(source, max_bytes=MAX_FEED_BYTES)
        return body, source
    path = Path(source)
    try:
        if path.stat().st_size > MAX_FEED_BYTES:
            raise FeedError([f"{source} is larger than {MAX_FEED_BYTES // (1024 * 1024)} MB."])
        return path.read_bytes(), None
    except FileNotFoundError as error:
        raise FeedError([f"{source}: no such file."]) from error
    except IsADirectoryError as error:
        raise FeedError([f"{source} is a folder, not a feed file."]) from error
    except OSError as error:
        raise FeedError([f"{source} could not be read ({error.strerror})."]) from error


def import_feed(source: str, actor=None) -> FeedResult:
    """Import the feed at `source` (an http(s) URL or a file path)."""
    raw, base_url = read_source(source)
    return import_feed_bytes(raw, base_url=base_url, actor=actor, source=source)


def import_feed_url(url: str, actor=None) -> FeedResult:
    """Import the feed at an http(s) URL; never reads a local file, whatever `url` says."""
    body, _content_type = fetch.fetch(url, max_bytes=MAX_FEED_BYTES)
    return import_feed_bytes(body, base_url=url, actor=actor, source=url)


def import_feed_bytes(raw: bytes, *, base_url: str | None = None, actor=None, source=None) -> FeedResult:
    """Parse, fetch what the items link to, then write everything in one transaction."""
    channel, items = parse_feed(raw, base_url)
    result = FeedResult()
    extras = [_fetch_extras(item, channel, result.notes) for item in items]
    try:
        _apply(items, extras, result)
        audit.record(
            actor,
            "catalog.feed_imported",
            details={
                "source": (source or "uploaded file")[:300],
                "created": result.created,
                "updated": result.updated,
                "unchanged": result.unchanged,
            },
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return result


# --- Parsing -----------------------------------------------------------------------


def _podcast_children(element, name: str) -> list:
    found = []
    for namespace in PODCAST_NAMESPACES:
        found.extend(element.findall(f"{{{namespace}}}{name}"))
    return found


def _people(element) -> tuple[list[str], list[str]] | None:
    """(guests, hosts) from podcast:person, or None when the element names nobody."""
    people = _podcast_children(element, "person")
    if not people:
        return None
    guests: list[str] = []
    hosts: list[str] = []
    for person in people:
        name = " ".join((person.text or "").split())[:120]
        # The namespace says a person without a role is a host.
        role = (person.get("role") or "host").strip().lower()
        if not name:
            continue
        if role == "guest" and name not in guests:
            guests.append(name)
        elif role in {"host", "co-host"} and name not in hosts:
            hosts.append(name)
    return guests, hosts


def _language(value: str | None) -> str | None:
    if not value:
        return None
    return re.split(r"[-_]", value.strip().lower(), maxsplit=1)[0] or None


def parse_feed(raw: bytes, base_url: str | None = None) -> tuple[dict, list[FeedItem]]:
    """Check the whole feed; return (channel facts, items) or raise FeedError."""
    if not raw.strip():
        raise FeedError(["The feed is empty."])
    if b"<!ENTITY" in raw:
        # Podcast feeds never need their own entities; refusing them keeps
        # entity-expansion tricks away from both XML parsers used here.
        raise FeedError(["The feed declares XML entities (<!ENTITY>); podcast feeds do not need them."])
    try:
        root = ET.fromstring(raw)  # noqa: S314 (see the import)
    except ET.ParseError as error:
        # The message names the line and column, e.g. "mismatched tag: line 9, column 2".
        raise FeedError([f"The feed is not well-formed XML: {error}."]) from error
    if root.tag != "rss" or root.find("channel") is None:
        raise FeedError(["This is not an RSS 2.0 podcast feed (no <rss><channel>)."])
    channel_element = root.find("channel")
    item_elements = channel_element.findall("item")
    if not item_elements:
        raise FeedError(["The feed has no episodes (no <item> elements)."])

    import feedparser  # loaded where a feed is read, not in every worker

    parsed = feedparser.parse(io.BytesIO(raw), sanitize_html=True, resolve_relative_uris=True)
    if len(parsed.entries) != len(item_elements):
        raise FeedError(["The feed could not be read consistently; check that it is valid RSS 2.0."])
    channel_people = _people(channel_element)
    channel = {
        "title": parsed.feed.get("title", ""),
        "language": _language(parsed.feed.get("language")),
        "base_url": base_url or parsed.feed.get("link") or None,
    }

    problems: list[str] = []
    items: list[FeedItem] = []
    guids: set[str] = set()
    for index, (entry, element) in enumerate(zip(parsed.entries, item_elements, strict=True), start=1):
        title = " ".join((entry.get("title") or "").split())
        where = f'item {index} ("{title[:60]}")' if title else f"item {index}"
        if not title:
            problems.append(f"{where}: no title")
        audio_url = _audio_url(entry)
        guid = (entry.get("id") or "").strip() or audio_url
        if not guid:
            problems.append(f"{where}: no <guid> and no audio enclosure to recognise it by")
        elif len(guid) > 500:
            problems.append(f"{where}: the guid is longer than 500 characters")
        elif guid in guids:
            problems.append(f"{where}: the guid {guid!r} is used by an earlier item too")
        guids.add(guid)
        # Item people replace the channel's (Podcasting 2.0); an item that names
        # nobody takes the channel's hosts and leaves its guests as they are.
        item_people = _people(element)
        guests = item_people[0] if item_people else None
        hosts = item_people[1] if item_people else (channel_people[1] if channel_people else None)
        items.append(
            FeedItem(
                guid=guid,
                title=_truncate(title, 200),
                summary=_summary(entry),
                published_on=_published(entry),
                audio_url=audio_url,
                duration_seconds=parse_itunes_duration(entry.get("itunes_duration")),
                number=_positive_int(entry.get("itunes_episode")),
                guests=guests,
                hosts=hosts or None,
                transcripts=[
                    {
                        "url": (t.get("url") or "").strip(),
                        "type": (t.get("type") or "").split(";")[0].strip().lower(),
                        "language": _language(t.get("language")),
                    }
                    for t in _podcast_children(element, "transcript")
                ],
                chapters_url=next(
                    ((c.get("url") or "").strip() for c in _podcast_children(element, "chapters")),
                    None,
                ),
            )
        )
    if problems:
        raise FeedError(problems)
    return channel, items


def _truncate(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _audio_url(entry) -> str | None:
    enclosures = entry.get("enclosures") or []
    audio = [e for e in enclosures if (e.get("type") or "").startswith("audio/")] or enclosures
    for enclosure in audio:
        url = (enclosure.get("href") or "").strip()
        if url and len(url) <= 500 and _URL_RE.match(url):
            return url
    return None


def _published(entry) -> date | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return date(stamp.tm_year, stamp.tm_mon, stamp.tm_mday) if stamp else None


def _positive_int(value) -> int | None:
    text = str(value or "").strip()
    if text.isdigit() and 0 < int(text) < 1_000_000:
        return int(text)
    return None


def parse_itunes_duration(value) -> int | None:
    """Seconds from itunes:duration ("3723", "62:03", "1:02:03", "1:02:03.5"), else None."""
    text = str(value or "").strip()
    if not text:
        return None
    parts = text.split(":")
    if len(parts) > 3:
        return None
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        return None
    if any(number < 0 for number in numbers) or any(not part.strip() for part in parts):
        return None
    seconds = 0.0
    for number in numbers:
        seconds = seconds * 60 + number
    return int(seconds) if seconds < 100 * 3600 else None


def _summary(entry) -> str | None:
    detail = entry.get("summary_detail")
    if not detail or not (detail.get("value") or "").strip():
        return None
    value = detail["value"]
    if detail.get("type") in {"text/html", "application/xhtml+xml"}:
        text = html_to_markdown(value)
    else:
        text = "\n\n".join(
            _escape_markdown(" ".join(block.split()))
            for block in re.split(r"\n\s*\n", value)
            if block.strip()
        )
    return _truncate(text, MAX_TEXT) if text else None


# --- HTML show notes to Markdown -----------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
_LINE_START_SPECIAL = re.compile(r"^(\s*)([#+>-]|\d+[.)])(?=\s|$)")


def _escape_markdown(text: str) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _LINE_START_SPECIAL.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


class _MarkdownWriter(HTMLParser):
    """Turns (sanitized) show-note HTML into Markdown that render_markdown() understands."""

    BLOCKS = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "tr"}
    SKIP = {"script", "style", "template", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.line: list[str] = []
        self.links: list[tuple[str | None, list[str]]] = []
        self.lists: list[list] = []
        self.skipping = 0
        self.quote = 0
        self.pre = 0

    def _out(self, text: str) -> None:
        (self.links[-1][1] if self.links else self.line).append(text)

    def _flush(self) -> None:
        text = "".join(self.line)
        self.line = []
        if not self.pre:
            text = re.sub(r"[ \t]+", " ", text)
            text = "\n".join(part.strip() for part in text.split("\n")).strip()
        if not text.strip():
            return
        if self.quote:
            text = "\n".join("> " + part for part in text.split("\n"))
        self.blocks.append(text)

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
            return
        if self.skipping:
            return
        attributes = dict(attrs)
        if tag in self.BLOCKS or tag in {"ul", "ol", "blockquote", "hr"}:
            self._flush()
        if tag == "pre":
            self.pre += 1
            self._out("```\n")
        elif tag == "blockquote":
            self.quote += 1
        elif tag in {"ul", "ol"}:
            self.lists.append([tag, 0])
        elif tag == "li":
            self._flush()
            depth = max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                marker = f"{self.lists[-1][1]}."
            else:
                marker = "-"
            self._out("  " * depth + marker + " ")
        elif tag == "br":
            self._out("\n")
        elif tag == "hr":
            self.blocks.append("---")
        elif tag in {"strong", "b"}:
            self._out("**")
        elif tag in {"em", "i"}:
            self._out("*")
        elif tag == "code" and not self.pre:
            self._out("`")
        elif tag == "a":
            href = (attributes.get("href") or "").strip()
            keep = href if re.match(r"^(https?://|mailto:)", href, re.IGNORECASE) else None
            self.links.append((keep, []))

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(self.skipping - 1, 0)
            return
        if self.skipping:
            return
        if tag == "a" and self.links:
            href, parts = self.links.pop()
            text = "".join(parts).strip()
            if href and text:
                safe_href = href.replace(" ", "%20").replace(")", "%29").replace("(", "%28")
                self._out(f"[{text}]({safe_href})")
            elif href:
                self._out(f"<{href}>")
            else:
                self._out(text)
        elif tag in {"strong", "b"}:
            self._out("**")
        elif tag in {"em", "i"}:
            self._out("*")
        elif tag == "code" and not self.pre:
            self._out("`")
        elif tag == "pre":
            self._out("\n```")
            self._flush()
            self.pre = max(self.pre - 1, 0)
        elif tag == "blockquote":
            self._flush()
            self.quote = max(self.quote - 1, 0)
        elif tag in {"ul", "ol"}:
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag in self.BLOCKS or tag == "li":
            self._flush()

    def handle_data(self, data):
        if self.skipping:
            return
        self._out(data if self.pre else _escape_markdown(data.replace("\n", " ")))

    def markdown(self) -> str:
        while self.links:
            _href, parts = self.links.pop()
            self._out("".join(parts))
        self._flush()
        return _join_blocks(self.blocks)


def _join_blocks(blocks: list[str]) -> str:
    # List items sit one per line; every other block gets a blank line.
    out = []
    for block in blocks:
        if out:
            both_items = _is_item(out[-1]) and _is_item(block)
            out.append("\n" if both_items else "\n\n")
        out.append(block)
    return "".join(out).strip()


def _is_item(block: str) -> bool:
    return bool(re.match(r"^\s*(-|\d+\.) ", block))


def html_to_markdown(html: str) -> str:
    """Markdown from show-note HTML: structure, emphasis and http(s)/mailto links survive."""
    writer = _MarkdownWriter()
    writer.feed(html)
    writer.close()
    return writer.markdown()


# --- Fetching what items link to -------------------------------------------------------


def _fetch_extras(item: FeedItem, channel: dict, notes: list[str]) -> Extras:
    """Transcripts and chapters for one item; a failure here is a note, not a refusal."""
    extras = Extras()
    label = f'"{item.title[:60]}"'
    candidates: dict[str, tuple[int, str, str]] = {}
    for offer in item.transcripts:
        url = _absolute(offer["url"], channel["base_url"])
        kind = offer["type"]
        if not url:
            notes.append(f"{label}: a transcript has no usable URL; skipped.")
            continue
        if kind in VTT_TYPES or (not kind and url.lower().split("?")[0].endswith(".vtt")):
            rank, filename = 0, "transcript.vtt"
        elif kind in SRT_TYPES or (not kind and url.lower().split("?")[0].endswith(".srt")):
            rank, filename = 1, "transcript.srt"
        else:
            # HTML, JSON and plain-text transcripts carry no timings we can use.
            continue
        language = offer["language"] or channel["language"] or "en"
        if language not in transcript_service.TRANSCRIPT_LANGUAGES:
            notes.append(f"{label}: a transcript in {language!r} was skipped (language not offered).")
            continue
        # WebVTT is preferred over SubRip when a language comes in both.
        if language not in candidates or rank < candidates[language][0]:
            candidates[language] = (rank, url, filename)
    for language, (_rank, url, filename) in sorted(candidates.items()):
        try:
            body, _type = fetch.fetch(url, max_bytes=transcript_service.MAX_BYTES)
            extras.transcripts[language] = transcript_service.parse(filename, body)
        except DomainError as error:
            notes.append(f"{label}: the {language} transcript was not stored: {error.message}")

    if item.chapters_url:
        url = _absolute(item.chapters_url, channel["base_url"])
        try:
            if not url:
                raise DomainError("the chapters URL is not usable.")
            body, _type = fetch.fetch(url, max_bytes=MAX_CHAPTERS_BYTES)
            extras.chapters = parse_chapters(body)
        except DomainError as error:
            notes.append(f"{label}: chapters were not stored: {error.message}")
    return extras


def _absolute(url: str, base: str | None) -> str | None:
    if not url:
        return None
    if urlsplit(url).scheme:
        return url
    return urljoin(base, url) if base else None


def parse_chapters(raw: bytes) -> list[tuple[str, int]]:
    """(title, start second) pairs from a Podcasting 2.0 JSON chapters file, in time order."""
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DomainError("the chapters file is not JSON.") from error
    items = document.get("chapters") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise DomainError('the chapters file has no "chapters" list.')
    if len(items) > MAX_CHAPTERS:
        raise DomainError(f"the chapters file has more than {MAX_CHAPTERS} chapters.")
    chapters = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise DomainError(f"chapter {number} is not an object.")
        start = item.get("startTime")
        if isinstance(start, bool) or not isinstance(start, int | float) or not 0 <= start < 360_000:
            raise DomainError(f"chapter {number} has no valid startTime.")
        title = item.get("title")
        # Chapters hidden from the table of contents, or without a title, only carry artwork.
        if item.get("toc") is False or not isinstance(title, str) or not title.strip():
            continue
        chapters.append((_truncate(" ".join(title.split()), 200), int(start)))
    return sorted(chapters, key=lambda chapter: chapter[1])


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
