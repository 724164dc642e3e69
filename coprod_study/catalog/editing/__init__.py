"""Editing the catalog in the browser, checked by the catalog file's own rules.

Each change is made to the episode's table as the catalog file would hold it
(catalog.export), then validated and applied by the loader
(catalog.service), so an edit in the browser is exactly as strict as a file
and can be exported back to one. Study questions move and go through their
rows instead, because answers point at them.

`document` holds that round trip; `episode` and `items` are the edits."""

from coprod_study.catalog.editing.document import (  # noqa: F401
    EPISODE_FIELDS,
    FIELD_NAMES,
    KINDS,
    MISSING_ITEM,
    TRANSLATED,
    EditError,
    _save,
    document,
    get_episode,
)
from coprod_study.catalog.editing.episode import (  # noqa: F401
    EpisodeFields,
    create_episode,
    delete_episode,
    delete_transcript,
    update_episode,
    upload_transcript,
)
from coprod_study.catalog.editing.items import (  # noqa: F401
    add_item,
    delete_item,
    move_item,
    update_item,
    update_page,
)
