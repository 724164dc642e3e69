"""Full-text search over the catalog and the posts a person may see.

One interface, two engines: FTS5 on SQLite, a tsvector column with a GIN index
on PostgreSQL (see migrations 0005 and 0010). Documents live in `search_documents`,
kept in step with the content by a flush hook, so every write path updates them in
the same transaction; `coprod-study reindex` rebuilds them from scratch.

Each document is stemmed in its own language (English, or Swedish for Swedish
transcripts and posts by Swedish-speaking members); a query is stemmed both ways,
so it finds either, and documents in the reader's language rank a little higher.
When the words together find little, any of them is enough, and a word the index
does not hold is replaced by the nearest one it does (a trigram index finds it).
"""


import re
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from coprod_study import policy
from coprod_study.catalog.translations import episode_title
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Episode,
    Post,
    Reply,
    SearchDocument,
    SearchGeneration,
    StudyGroup,
)
from coprod_study.search import text as search_text
from coprod_study.search.documents import (  # noqa: F401  (the index's interface, used from here)
    GENERATION_ID,
    KINDS,
    MARK_START,
    MARK_STOP,
    SOURCES,
    reindex,
)
from coprod_study.search.documents import MARKERS as _MARKERS
from coprod_study.search.engines import (  # noqa: F401  (kept results hold Match rows)
    MATCH_COLUMNS,
    Match,
    _corrections,
    _matches,
)
from coprod_study.urls import path_for

MAX_QUERY = 200
MAX_TERMS = 8
RESULT_LIMIT = 60
TOKEN_RE = re.compile(r"\w+", re.UNICODE)
KIND_LABELS = {
    "episode": _l("Episodes"),
    "question": _l("Study questions"),
    "takeaway": _l("Takeaways"),
    "reference": _l("References"),
    "segment": _l("Transcripts"),
    "thread": _l("Threads"),
    "post": _l("Thread posts"),
    "answer": _l("Answers"),
    "reply": _l("Replies"),
}
GROUP_KINDS = ("thread", "post", "answer", "reply")
# Kept results per process: about 1 KiB a search of 60 hits.
KEPT_RESULTS_BYTES = 4 * 1024 * 1024
_MARKED_RE = re.compile(f"{MARK_START}([^{MARK_START}{MARK_STOP}]*){MARK_STOP}")


def terms(query: str | None) -> list[str]:
    """The words of a query; every operator and quote is dropped, so no syntax gets through."""
    words = TOKEN_RE.findall((query or "")[:MAX_QUERY].lower())
    return list(dict.fromkeys(w for w in words if w.strip("_")))[:MAX_TERMS]


@dataclass
class Hit:
    kind: str
    title: str
    snippet: Markup
    url: str
    meta: str = ""


@dataclass
class Results:
    query: str
    groups: dict[str, list[Hit]] = field(default_factory=dict)
    # The words searched for instead, when some of the query's were not in the index.
    corrected: str | None = None

    @property
    def total(self) -> int:
        return sum(len(hits) for hits in self.groups.values())


# What a viewer may find (policy.search_visibility): a WHERE clause, their groups,
# a signature, and the index's stamp read with the groups (see _kept_matches).
Visibility = policy.DocumentVisibility


def _stamp_columns():
    """The highest document id and the generation, as two columns of any query."""
    return (
        select(func.max(SearchDocument.id)).scalar_subquery().label("newest_document"),
        select(SearchGeneration.value)
        .where(SearchGeneration.id == GENERATION_ID)
        .scalar_subquery()
        .label("generation"),
    )


def _visibility(viewer) -> Visibility:
    """Policy's rule for search, with the index's stamp read in the same query as the groups."""
    from coprod_study.courses.service.reveal import revealed_after_due_questions

    return policy.search_visibility(
        viewer, *_stamp_columns(), after_due=revealed_after_due_questions
    )


# Markdown's marks, as they show in a snippet cut from the stored text: emphasis,
# code, headings, quotes, list bullets; links keep their text, images their alt.
_MARKDOWN_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*(?:\s[^)]*)?\)")
_MARKDOWN_MARKS = re.compile(r"\*{1,3}|~~|`+|(?<![\w])_{1,3}|_{1,3}(?![\w])")
_LINE_MARKS = re.compile(r"(^|\n)[ \t]*(?:#{1,6}[ \t]+|>[ \t]?|[-+*][ \t]+|\d+[.)][ \t]+)")


def plain_snippet(snippet: str) -> str:
    """A snippet of Markdown as the reader sees the text: no *, _, #, ` or link syntax.
    The engine's highlight markers (control characters) stay where they are."""
    text = _MARKDOWN_LINK.sub(r"\1", snippet)
    text = _LINE_MARKS.sub(r"\1", text)
    return _MARKDOWN_MARKS.sub("", text)


def _mark(snippet: str) -> Markup:
    """Escape a snippet (its Markdown marks taken out) and turn each pair of the engine's
    markers into <mark>; a marker without its pair (a document indexed before they were
    taken out) is dropped."""
    snippet = plain_snippet(snippet)
    parts = []
    position = 0
    for found in _MARKED_RE.finditer(snippet):
        parts.append(escape(snippet[position:found.start()].translate(_MARKERS)))
        parts.append(Markup("<mark>%s</mark>") % found.group(1))
        position = found.end()
    parts.append(escape(snippet[position:].translate(_MARKERS)))
    return Markup("").join(parts)


def _results_cache():
    from coprod_study.fragments import BoundedCache

    cache = current_app.extensions.get("search_results")
    if cache is None:
        cache = current_app.extensions["search_results"] = BoundedCache(
            KEPT_RESULTS_BYTES, cost=_results_cost
        )
    return cache


def _results_cost(matches: tuple) -> int:
    return 200 + sum(200 + len(m.title) + len(m.snippet or "") for m in matches)


def _kept_matches(words: list[str], visibility: Visibility, limit: int, reader: str = "en",
                  any_word: bool = False) -> tuple:
    """The matches, from results kept in this process when nothing searchable has
    changed since: no document is newer than the highest id they were found
    with, and the generation (raised at every change or removal) is the same.

    The full-text query is most of a search's time when a word is common, and
    people repeat searches (paging back, refining, the same topic in a group).
    The stamp is read before the matches, never after: results are kept under
    a stamp no newer than what they saw.
    """
    stamp = visibility.columns or tuple(db.session.execute(select(*_stamp_columns())).one())
    newest, generation = stamp
    if generation is None:  # a database without the row: never keep anything
        return tuple(_matches(words, visibility.clause, limit, reader, any_word))
    key = (db.engine.dialect.name, tuple(words), visibility.signature, limit, newest, generation,
           reader, any_word)
    cache = _results_cache()
    kept = cache.get(key)
    if kept is None:
        kept = tuple(_matches(words, visibility.clause, limit, reader, any_word))
        cache.put(key, kept)
    return kept


def reader_language(language: str | None = None) -> str:
    """The index language closest to the reader's: the one asked for, else the page's."""
    if language is None:
        from flask import has_request_context
        from flask_babel import get_locale

        language = str(get_locale()) if has_request_context() else None
    return search_text.document_language(language)


def _widened(words: list[str], visibility: Visibility, limit: int, reader: str) -> list:
    """All the words; when no document has them all, documents with any of them.

    Only when none has them all: the page lists results by kind, so documents with
    one word would otherwise push one with every word down the page."""
    rows = list(_kept_matches(words, visibility, limit, reader))
    if not rows and len(words) > 1:
        rows = list(_kept_matches(words, visibility, limit, reader, any_word=True))
    return rows


def ranked_matches(viewer, words: list[str], visibility: Visibility, limit: int = RESULT_LIMIT,
                   language: str | None = None) -> tuple[list, list[str] | None]:
    """The matches for `words`, best first, and the corrected words if a typing
    error was taken out (else None).

    Typing errors are looked for only when no document has all the words: when
    one does, every word is in the index as typed."""
    reader = reader_language(language)
    words = search_text.without_stop_words(words)
    rows = list(_kept_matches(words, visibility, limit, reader))
    if rows:
        return rows, None
    corrected = _corrections(words, visibility.clause)
    if corrected != words:
        rows = _widened(corrected, visibility, limit, reader)
        if rows:
            return rows, corrected
    return _widened(words, visibility, limit, reader), None


def search(viewer, query: str, limit: int = RESULT_LIMIT, language: str | None = None) -> Results:
    words = terms(query)
    results = Results(query=" ".join(words))
    if not words:
        return results
    visibility = _visibility(viewer)
    rows, corrected = ranked_matches(viewer, words, visibility, limit, language)
    if corrected:
        results.corrected = " ".join(corrected)
    if not rows:
        return results
    hits = _hits(viewer, rows, visibility.groups)
    for kind in KIND_LABELS:
        if hits.get(kind):
            results.groups[kind] = hits[kind]
    return results


def _hits(viewer, rows, groups: dict) -> dict[str, list[Hit]]:
    """Hits for the matched documents, loading what they show in as few queries as may be."""
    by_kind: dict[str, list[Match]] = {}
    for match in rows:
        by_kind.setdefault(match.kind, []).append(match)
    episode_ids = {m.episode_id for m in rows if m.episode_id}
    episodes = {}
    if episode_ids:
        episodes = {
            e.id: e
            for e in db.session.scalars(select(Episode).where(Episode.id.in_(episode_ids)))
        }
    missing = {m.group_id for m in rows if m.group_id and m.group_id not in groups}
    if missing:
        groups = {
            **groups,
            **{
                g.id: g
                for g in db.session.scalars(select(StudyGroup).where(StudyGroup.id.in_(missing)))
            },
        }
    loaded = {}
    for kind, model in (("answer", Answer), ("reply", Reply), ("post", Post)):
        ids = [m.ref_id for m in by_kind.get(kind, [])]
        if ids:
            loaded[kind] = {
                o.id: o
                for o in db.session.scalars(
                    select(model).options(joinedload(model.author)).where(model.id.in_(ids))
                )
            }
    # A thread's hit needs only its id and title, which its document carries.
    loaded["thread"] = {m.ref_id: m for m in by_kind.get("thread", [])}
    segments = {m.ref_id: m.start_ms for m in rows if m.start_ms is not None}
    out: dict[str, list[Hit]] = {}
    for kind, items in by_kind.items():
        for match in items:
            hit = _hit(viewer, kind, match, match.snippet, episodes, groups, loaded, segments)
            if hit is not None:
                out.setdefault(kind, []).append(hit)
    return out


def _hit(viewer, kind, document, snippet, episodes, groups, loaded, segments) -> Hit | None:
    marked = _mark(snippet or "")
    episode = episodes.get(document.episode_id)
    if kind in GROUP_KINDS:
        group = groups.get(document.group_id)
        obj = loaded.get(kind, {}).get(document.ref_id)
        if group is None or obj is None:
            return None
        if getattr(obj, "deleted_at", None) or getattr(obj, "hidden_at", None):
            return None  # its document is gone too; never show it, whatever was kept
        if kind == "thread":
            url = path_for("discussion.thread", slug=group.slug, thread_id=document.ref_id)
            return Hit(kind, document.title, marked, url, group.name)
        label = policy.author_label(viewer, group, obj)
        if kind == "answer":
            url = path_for("groups.answer_link", slug=group.slug, answer_id=obj.id)
        elif kind == "reply":
            url = path_for("groups.answer_link", slug=group.slug, answer_id=obj.answer_id)
            url += f"#reply-{obj.id}"
        else:
            url = path_for("discussion.thread", slug=group.slug, thread_id=obj.thread_id)
            url += f"#post-{obj.id}"
        return Hit(kind, gettext("%(author)s in %(group)s", author=label, group=group.name),
                   marked, url, group.name)
    if episode is None:
        return None
    title = gettext(
        "Episode %(number)s: %(title)s", number=episode.number, title=episode_title(episode)
    )
    url = path_for("catalog.episode", slug=episode.slug)
    if kind == "segment":
        seconds = segments.get(document.ref_id, 0) // 1000
        url = path_for("catalog.transcript", slug=episode.slug, lang=document.language)
        url += f"#t={seconds}"
        stamp = f"{seconds // 60:02d}:{seconds % 60:02d}"
        if document.language:
            title = gettext(
                "%(title)s, at %(time)s (%(language)s)",
                title=title,
                time=stamp,
                language=document.language,
            )
        else:
            title = gettext("%(title)s, at %(time)s", title=title, time=stamp)
    elif kind in ("question", "takeaway", "reference"):
        url += {"question": "#questions", "takeaway": "#takeaways", "reference": "#references"}[kind]
    return Hit(kind, title, marked, url)
