"""Import the podcast's RSS feed: episodes by GUID, guests, transcripts and chapters, all or nothing.

`importer` is the way in (`import_feed`); the other modules are its steps:
parsing the XML, show notes to Markdown, fetching an item's extras, writing."""

from coprod_study.catalog.feed_import.extras import (  # noqa: F401
    parse_chapters,
)
from coprod_study.catalog.feed_import.importer import (  # noqa: F401
    import_feed,
    import_feed_bytes,
    import_feed_url,
    read_source,
)
from coprod_study.catalog.feed_import.items import (  # noqa: F401
    CHAPTERS_TYPES,
    MAX_CHAPTERS,
    MAX_CHAPTERS_BYTES,
    MAX_FEED_BYTES,
    PODCAST_NAMESPACES,
    SRT_TYPES,
    UNCATEGORISED,
    VTT_TYPES,
    Extras,
    FeedError,
    FeedItem,
    FeedResult,
)
from coprod_study.catalog.feed_import.notes import (  # noqa: F401
    html_to_markdown,
)
from coprod_study.catalog.feed_import.parsing import (  # noqa: F401
    parse_feed,
    parse_itunes_duration,
)
from coprod_study.catalog.feed_import.writing import (  # noqa: F401
    slugify,
)
