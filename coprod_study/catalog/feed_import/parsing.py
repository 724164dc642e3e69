"""Reading the feed's XML: the channel, its items and the podcast namespace's tags."""

import io
import re
import xml.etree.ElementTree as ET  # noqa: S405 (expat >= 2.4 refuses entity bombs; no external entities)
from datetime import date

from coprod_study.catalog.feed_import.items import _URL_RE, PODCAST_NAMESPACES, FeedError, FeedItem
from coprod_study.catalog.feed_import.notes import _escape_markdown, html_to_markdown
from coprod_study.catalog.service import MAX_TEXT

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
