"""Fetching what an item links to: its transcripts and chapters."""

import json
from urllib.parse import urljoin, urlsplit

from coprod_study.catalog import fetch
from coprod_study.catalog import transcript as transcript_service
from coprod_study.catalog.feed_import.items import (
    MAX_CHAPTERS,
    MAX_CHAPTERS_BYTES,
    SRT_TYPES,
    VTT_TYPES,
    Extras,
    FeedItem,
)
from coprod_study.catalog.feed_import.parsing import _truncate
from coprod_study.errors import DomainError

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
