"""The catalog file: read, validate as a whole, then create or update by slug.

The modules here split the service at its seams (validation, loading,
listening); this package names their public functions in one place, so callers
keep writing `catalog.load_file(...)`."""

from coprod_study.catalog.service.listening import (  # noqa: F401
    listened_episode_ids,
    set_listened,
)
from coprod_study.catalog.service.loading import (  # noqa: F401
    LoadResult,
    apply,
    catalog_is_empty,
    load_file,
    load_sample_if_empty,
    sample_catalog_path,
)
from coprod_study.catalog.service.validation import (  # noqa: F401
    DOI_RE,
    DURATION_RE,
    MAX_TEXT,
    SITE_PATH_RE,
    SLUG_RE,
    TRANSLATABLE_LANGUAGES,
    CatalogError,
    format_duration,
    parse_duration,
    read_file,
    validate,
)
