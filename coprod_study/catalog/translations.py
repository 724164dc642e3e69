"""Catalog text in the reader's language, falling back to the original."""

from dataclasses import dataclass, field

from flask import g, has_app_context
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import or_, select

from coprod_study.extensions import db
from coprod_study.markup import render_markdown
from coprod_study.models import ContentTranslation

ORIGINAL_LANGUAGE = "en"


@dataclass
class EpisodeText:
    """What the episode page shows, per field, and which fields are still in the original."""

    language: str
    texts: dict = field(default_factory=dict)
    missing: set = field(default_factory=set)

    def get(self, entity: str, obj, attribute: str) -> str:
        original = getattr(obj, attribute)
        if self.language == ORIGINAL_LANGUAGE:
            return original
        return self.texts.get((entity, obj.id, attribute), original)

    def lang(self, entity: str, obj, attribute: str) -> Markup:
        """A lang attribute when the shown text is not in the page's language."""
        if self.language == ORIGINAL_LANGUAGE or (entity, obj.id, attribute) in self.texts:
            return Markup("")
        return Markup(f' lang="{ORIGINAL_LANGUAGE}"')  # noqa: S704 (a constant)

    def summary_html(self, episode) -> Markup:
        key = ("episode", episode.id, "summary")
        if self.language != ORIGINAL_LANGUAGE and key in self.texts:
            return render_markdown(self.texts[key])
        return Markup(episode.summary_html)  # noqa: S704 (rendered by render_markdown when loaded)

    @property
    def translated(self) -> bool:
        return bool(self.texts)


def for_episode(episode, language: str, chapters=()) -> EpisodeText:
    result = EpisodeText(language=language)
    if language == ORIGINAL_LANGUAGE:
        return result
    wanted = {
        "episode": [episode.id],
        "takeaway": [t.id for t in episode.takeaways],
        "question": [q.id for q in episode.questions],
        "chapter": [c.id for c in chapters],
    }
    clauses = [
        (ContentTranslation.entity == entity) & ContentTranslation.entity_id.in_(ids)
        for entity, ids in wanted.items()
        if ids
    ]
    rows = db.session.scalars(
        select(ContentTranslation).where(ContentTranslation.language == language, or_(*clauses))
    )
    for row in rows:
        result.texts[(row.entity, row.entity_id, row.field)] = row.text
    expected = [("episode", episode.id, "title"), ("episode", episode.id, "summary")]
    expected += [("takeaway", i, "text") for i in wanted["takeaway"]]
    expected += [("question", i, "prompt") for i in wanted["question"]]
    expected += [("chapter", i, "title") for i in wanted["chapter"]]
    result.missing = {key for key in expected if key not in result.texts}
    return result


def episode_titles(language: str) -> dict[int, str]:
    """Every episode's title in `language`, by episode id: one query per request and
    language, for lists that show many episodes (catalog, home, groups, search)."""
    if language == ORIGINAL_LANGUAGE:
        return {}
    kept = g.setdefault("_episode_titles", {}) if has_app_context() else {}
    if language not in kept:
        rows = db.session.execute(
            select(ContentTranslation.entity_id, ContentTranslation.text).where(
                ContentTranslation.entity == "episode",
                ContentTranslation.field == "title",
                ContentTranslation.language == language,
            )
        )
        kept[language] = dict(rows.all())
    return kept[language]


def episode_title(episode, language: str | None = None) -> str:
    """The episode's title in `language` (the reader's, by default), else the original."""
    language = language or str(get_locale() or ORIGINAL_LANGUAGE)
    return episode_titles(language).get(episode.id, episode.title)
