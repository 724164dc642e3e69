"""Import the podcast's RSS feed: episodes by GUID, guests, transcripts and chapters, all or nothing."""

from pathlib import Path

from coprod_study import audit
from coprod_study.catalog import fetch
from coprod_study.catalog.feed_import.extras import _fetch_extras
from coprod_study.catalog.feed_import.items import MAX_FEED_BYTES, FeedError, FeedResult
from coprod_study.catalog.feed_import.parsing import parse_feed
from coprod_study.catalog.feed_import.writing import _apply
from coprod_study.extensions import db

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
