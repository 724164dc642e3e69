"""What a feed import reads and reports: its limits, an item, what an item links to, the result."""

import re
from dataclasses import dataclass, field
from datetime import date

from coprod_study.catalog import fetch
from coprod_study.errors import DomainError

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
