"""An episode as the catalog file holds it, and saving a changed one through the loader."""

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coprod_study import audit, policy
from coprod_study.catalog import export as catalog_export
from coprod_study.catalog import service as catalog
from coprod_study.errors import DomainError, Forbidden, NotFound
from coprod_study.extensions import db
from coprod_study.models import (
    Episode,
)

KINDS = {
    "guests": "guest",
    "takeaways": "takeaway",
    "questions": "question",
    "references": "reference",
    "chapters": "chapter",
}


# What the editor says when an item number is wrong, per list.
MISSING_ITEM = {
    "guests": _l("There is no guest %(index)s."),
    "takeaways": _l("There is no takeaway %(index)s."),
    "questions": _l("There is no question %(index)s."),
    "references": _l("There is no reference %(index)s."),
    "chapters": _l("There is no chapter %(index)s."),
}


# Lists whose translations the file keeps in step, item by item.
TRANSLATED = {"takeaways", "questions", "chapters"}


EPISODE_FIELDS = (
    "slug", "number", "title", "dimension", "related_dimensions", "published", "audio_url",
    "duration", "host", "summary", "sample",
)


class EditError(DomainError):
    """The loader's problems with an edit, each as a message for the form."""

    def __init__(self, problems: list[str], field: str | None = None):
        super().__init__(" ".join(problems), field=field)
        self.problems = problems


def _require_editor(actor) -> None:
    if not policy.can_edit_catalog(actor):
        raise Forbidden(_("Only admins edit the catalog."))


def get_episode(slug: str) -> Episode:
    episode = db.session.scalar(select(Episode).where(Episode.slug == slug))
    if episode is None:
        raise NotFound(_("There is no such episode."))
    return episode


def document(episode: Episode) -> dict:
    """The episode's table in the catalog file (without transcripts, which are files)."""
    return catalog_export.episode_document(episode, sample=episode.is_sample)


FIELD_NAMES = {"audio_url": "audio URL", "related_dimensions": "related dimensions"}


def _readable(problem: str, slug: str | None) -> str:
    """'episode "x": takeaway 2: empty text' -> 'Takeaway 2: empty text'."""
    text = re.sub(r'^episode (?:"[^"]*"|\d+): ', "", problem)
    # The loader speaks of files; here the "file" is the one episode being edited.
    text = text.replace(", which is not in this file", "")
    for key, name in FIELD_NAMES.items():
        text = re.sub(rf"\b{key}\b", name, text)
    return text[:1].upper() + text[1:]


def _save(actor, raw: dict, action: str, details: dict, *, rename: Episode | None = None) -> None:
    """Validate `raw` as a catalog file's episode and apply it, in one transaction."""
    try:
        data = catalog.validate(
            {"dimensions": catalog_export.dimensions_document(), "episodes": [raw]}
        )
    except catalog.CatalogError as error:
        db.session.rollback()
        raise EditError([_readable(p, raw.get("slug")) for p in error.problems]) from error
    if rename is not None and rename.slug != raw["slug"]:
        # The loader finds episodes by slug: give the row its new slug first.
        rename.slug = raw["slug"]
    audit.record(actor, action, details=details)
    try:
        catalog.apply(data)
    except catalog.CatalogError as error:
        raise EditError([_readable(p, raw.get("slug")) for p in error.problems]) from error
