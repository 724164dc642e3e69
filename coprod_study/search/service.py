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
from collections import namedtuple
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import (
    and_,
    case,
    column,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session, joinedload

from coprod_study import policy
from coprod_study.catalog.translations import episode_title
from coprod_study.extensions import db
from coprod_study.models import (
    Answer,
    Episode,
    EpisodeGuest,
    Membership,
    Person,
    Post,
    QuestionReveal,
    Reference,
    Reply,
    SearchDocument,
    SearchGeneration,
    StudyGroup,
    StudyQuestion,
    Takeaway,
    Thread,
    Transcript,
    TranscriptSegment,
    User,
)
from coprod_study.search import text as search_text
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
GENERATION_ID = 1
GENERATION_STALE = "search_generation_stale"  # a key of Session.info
# Kept results per process: about 1 KiB a search of 60 hits.
KEPT_RESULTS_BYTES = 4 * 1024 * 1024
# What the engines put around a matched word in a snippet: two control characters
# that are taken out of every document, so nothing a person types (a "[[" in a post)
# can open or close a highlight.
MARK_START = "\x02"
MARK_STOP = "\x03"
_MARKERS = str.maketrans("", "", MARK_START + MARK_STOP)
_MARKED_RE = re.compile(f"{MARK_START}([^{MARK_START}{MARK_STOP}]*){MARK_STOP}")
# Documents read for the words near a mistyped one.
TYPO_CANDIDATES = 40
# A document in the reader's language ranks as if it matched this much better.
READER_LANGUAGE_BOOST = 1.25


# --- Keeping documents in step -----------------------------------------------------


def _question_ref(group_id, study_question_id, group_question_id) -> str:
    if study_question_id is not None:
        return f"{group_id}:s:{study_question_id}"
    return f"{group_id}:g:{group_question_id}"


def _author_language(session, user_id) -> str:
    """What members write is indexed in the language they use the site in."""
    if user_id is None:
        return search_text.DEFAULT_LANGUAGE
    with session.no_autoflush:
        author = session.get(User, user_id)
    return search_text.document_language(getattr(author, "language", None))


def _episode_body(episode) -> str:
    """The summary, then each guest's name and bio: people search for guests too."""
    guests = [
        f"{g.person.name}. {g.person.bio or ''}".strip() for g in episode.guests if g.person
    ]
    return "\n\n".join([episode.summary or "", *guests])


def _document(session, obj) -> dict | None:
    """The search document for `obj`, or None when it must not be searchable."""
    if isinstance(obj, Answer):
        if obj.deleted_at or obj.hidden_at:
            return None
        return {
            "group_id": obj.group_id,
            "author_id": obj.user_id,
            "question_ref": _question_ref(obj.group_id, obj.study_question_id, obj.group_question_id),
            "body": obj.body,
            "language": _author_language(session, obj.user_id),
        }
    if isinstance(obj, Reply):
        if obj.deleted_at or obj.hidden_at:
            return None
        with session.no_autoflush:
            answer = session.get(Answer, obj.answer_id)
        if answer is None:
            return None
        return {
            "group_id": answer.group_id,
            "author_id": obj.user_id,
            "question_ref": _question_ref(
                answer.group_id, answer.study_question_id, answer.group_question_id
            ),
            "body": obj.body,
            "language": _author_language(session, obj.user_id),
        }
    if isinstance(obj, Post):
        if obj.deleted_at or obj.hidden_at:
            return None
        with session.no_autoflush:
            thread = session.get(Thread, obj.thread_id)
        return {"group_id": thread.group_id, "author_id": obj.user_id, "body": obj.body,
                "language": _author_language(session, obj.user_id)}
    if isinstance(obj, Thread):
        return {"group_id": obj.group_id, "title": obj.title, "episode_id": obj.episode_id,
                "language": _author_language(session, obj.author_id)}
    if isinstance(obj, Episode):
        with session.no_autoflush:
            body = _episode_body(obj)
        return {"episode_id": obj.id, "title": obj.title, "body": body}
    if isinstance(obj, StudyQuestion):
        return {"episode_id": obj.episode_id, "body": obj.prompt}
    if isinstance(obj, Takeaway):
        return {"episode_id": obj.episode_id, "body": obj.text}
    if isinstance(obj, Reference):
        return {"episode_id": obj.episode_id, "body": obj.citation}
    if isinstance(obj, TranscriptSegment):
        with session.no_autoflush:
            transcript = session.get(Transcript, obj.transcript_id)
        if transcript is None:
            return None
        return {
            "episode_id": transcript.episode_id,
            "language": transcript.language,
            "title": obj.speaker or "",
            "body": obj.text,
        }
    return None


KINDS = {
    Answer: "answer",
    Reply: "reply",
    Post: "post",
    Thread: "thread",
    Episode: "episode",
    StudyQuestion: "question",
    Takeaway: "takeaway",
    Reference: "reference",
    TranscriptSegment: "segment",
}


def _row(session, obj) -> dict | None:
    """The search_documents row for `obj`, or None when it is not searchable."""
    doc = _document(session, obj)
    if doc is None:
        return None
    stems = ""
    if search_text.document_language(doc.get("language")) == "sv":
        stems = search_text.swedish_stems(doc.get("title") or "", doc.get("body") or "")
    return {
        "kind": KINDS[type(obj)],
        "ref_id": obj.id,
        "group_id": doc.get("group_id"),
        "episode_id": doc.get("episode_id"),
        "author_id": doc.get("author_id"),
        "question_ref": doc.get("question_ref"),
        "language": doc.get("language"),
        "title": (doc.get("title") or "").translate(_MARKERS),
        "body": (doc.get("body") or "").translate(_MARKERS),
        "stems": stems,
    }


# The attributes each kind's document is made from (_document reads these): a
# change elsewhere (a thread's last activity, a pin) leaves the document alone.
SOURCES = {
    Answer: ("body", "deleted_at", "hidden_at", "group_id", "user_id",
             "study_question_id", "group_question_id"),
    Reply: ("body", "deleted_at", "hidden_at", "user_id", "answer_id"),
    Post: ("body", "deleted_at", "hidden_at", "user_id", "thread_id"),
    Thread: ("title", "group_id", "episode_id"),
    Episode: ("title", "summary", "guests"),
    StudyQuestion: ("prompt", "episode_id"),
    Takeaway: ("text", "episode_id"),
    Reference: ("citation", "episode_id"),
    TranscriptSegment: ("speaker", "text", "transcript_id"),
}


def _document_changed(obj) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in SOURCES[type(obj)])


def _episodes_of_renamed_guests(session, changed) -> list:
    """Episodes whose document shows a guest whose name or bio has just changed."""
    people = [
        o.id for o in session.dirty
        if isinstance(o, Person) and any(
            inspect(o).attrs[name].history.has_changes() for name in ("name", "bio")
        )
    ]
    if not people:
        return []
    with session.no_autoflush:
        episodes = session.scalars(
            select(Episode).join(EpisodeGuest, EpisodeGuest.episode_id == Episode.id)
            .where(EpisodeGuest.person_id.in_(people))
        ).unique().all()
    return [e for e in episodes if e not in changed]


def _sync(session, flush_context) -> None:
    changed = [o for o in session.new if type(o) in KINDS]
    changed += [o for o in session.dirty if type(o) in KINDS and _document_changed(o)]
    changed += _episodes_of_renamed_guests(session, changed)
    removed = [o for o in session.deleted if type(o) in KINDS]
    if not changed and not removed:
        return
    connection = session.connection()
    for obj in removed + changed:
        connection.execute(
            delete(SearchDocument).where(
                SearchDocument.kind == KINDS[type(obj)], SearchDocument.ref_id == obj.id
            )
        )
    # A new document raises the highest id; any other change raises the generation
    # (at commit, see below), so kept results (_kept_matches) are never served past it.
    if removed or any(obj not in session.new for obj in changed):
        session.info[GENERATION_STALE] = True
    rows = [row for row in (_row(session, obj) for obj in changed) if row is not None]
    if rows:
        connection.execute(insert(SearchDocument), rows)


def _raise_generation_at_commit(session) -> None:
    """The generation's row is raised once per transaction, just before it commits,
    so writers hold it only while they commit."""
    session.flush()
    if session.info.pop(GENERATION_STALE, False):
        _raise_generation(session.connection())


def _forget_stale_generation(session, _transaction=None) -> None:
    session.info.pop(GENERATION_STALE, None)


event.listen(Session, "after_flush", _sync)
event.listen(Session, "before_commit", _raise_generation_at_commit)
event.listen(Session, "after_rollback", _forget_stale_generation)


def _raise_generation(connection) -> None:
    connection.execute(
        update(SearchGeneration)
        .where(SearchGeneration.id == GENERATION_ID)
        .values(value=SearchGeneration.value + 1)
    )


def reindex() -> int:
    """Rebuild every search document from the content tables."""
    db.session.execute(delete(SearchDocument))
    _raise_generation(db.session.connection())
    total = 0
    for model in KINDS:
        batch = []
        for obj in db.session.scalars(select(model)).yield_per(1000):
            row = _row(db.session, obj)
            if row is None:
                continue
            batch.append(row)
            if len(batch) >= 1000:
                db.session.execute(insert(SearchDocument), batch)
                total += len(batch)
                batch = []
        if batch:
            db.session.execute(insert(SearchDocument), batch)
            total += len(batch)
    if db.engine.dialect.name == "sqlite":
        db.session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    db.session.commit()
    return total


# --- Querying -----------------------------------------------------------------------


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


@dataclass
class Visibility:
    """What a viewer may find: `clause` (a WHERE clause), their groups by id, a
    `signature` equal for two viewers exactly when their clauses are, and the
    index's stamp when it came with the groups (see _kept_matches)."""

    clause: object
    groups: dict
    signature: tuple
    stamp: tuple | None = None


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
    """Catalog documents, plus posts in the viewer's groups that
    post-before-you-see-others lets them read."""
    public = SearchDocument.group_id.is_(None)
    if not getattr(viewer, "is_authenticated", False):
        return Visibility(public, {}, ("public",))
    if policy.has_site_role(viewer, "admin"):
        return Visibility(SearchDocument.id.is_not(None), {}, ("all",))
    rows = db.session.execute(
        select(StudyGroup, Membership, *_stamp_columns())
        .join(Membership, Membership.group_id == StudyGroup.id)
        .where(Membership.user_id == viewer.id, Membership.status == "active")
    ).all()
    for group, membership, *_stamp in rows:
        policy.remember_membership(viewer, group, membership)
    groups = {row[0].id: row[0] for row in rows}
    if not groups:
        return Visibility(public, groups, ("public",))
    stamp = tuple(rows[0][2:])
    gated = [g.id for g in groups.values() if g.post_first and not policy.can_moderate(viewer, g)]
    member_docs = SearchDocument.group_id.in_(list(groups))
    if not gated:
        return Visibility(or_(public, member_docs), groups, ("groups", tuple(sorted(groups))), stamp)
    # The questions whose answers the viewer may read: answered by them, revealed by a
    # facilitator or, in a course, revealed after the due date.
    answered = select(Answer.group_id, Answer.study_question_id, Answer.group_question_id).where(
        Answer.user_id == viewer.id, Answer.group_id.in_(gated), Answer.deleted_at.is_(None)
    )
    revealed = select(
        QuestionReveal.group_id, QuestionReveal.study_question_id, QuestionReveal.group_question_id
    ).where(QuestionReveal.group_id.in_(gated))
    from coprod_study.courses.service import revealed_after_due_questions

    in_courses = [g for g in gated if groups[g].course_id is not None]
    after_due = revealed_after_due_questions(in_courses, viewer) if in_courses else []
    opened = db.session.execute(answered.union_all(revealed, *after_due)).all()
    open_refs = {_question_ref(*row) for row in opened}
    clause = or_(
        public,
        and_(
            member_docs,
            or_(
                SearchDocument.group_id.not_in(gated),
                SearchDocument.question_ref.is_(None),
                SearchDocument.author_id == viewer.id,
                SearchDocument.question_ref.in_(open_refs or {"-"}),
            ),
        ),
    )
    signature = ("gated", tuple(sorted(groups)), tuple(sorted(gated)), viewer.id,
                 tuple(sorted(open_refs)))
    return Visibility(clause, groups, signature, stamp)


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


def _segment_join():
    """A transcript line's start comes with its document (it makes the link's #t=)."""
    return and_(SearchDocument.kind == "segment", TranscriptSegment.id == SearchDocument.ref_id)


# What a hit needs of its document; kept results hold these, never ORM objects.
Match = namedtuple("Match", "kind ref_id group_id episode_id language title snippet start_ms")
MATCH_COLUMNS = (
    SearchDocument.kind,
    SearchDocument.ref_id,
    SearchDocument.group_id,
    SearchDocument.episode_id,
    SearchDocument.language,
    SearchDocument.title,
)


def _regconfig(language: str):
    return literal_column(f"'{search_text.REGCONFIGS[language]}'::regconfig")


def _document_regconfig():
    """The text search configuration of each document's language."""
    return case(
        (SearchDocument.language == "sv", _regconfig("sv")), else_=_regconfig("en")
    )


def _postgres_query(words: list[str], language: str, any_word: bool):
    if not any_word:
        return func.plainto_tsquery(_regconfig(language), " ".join(words))
    query = func.plainto_tsquery(_regconfig(language), words[0])
    for word in words[1:]:
        query = query.op("||")(func.plainto_tsquery(_regconfig(language), word))
    return query


def _fts_match(words: list[str], any_word: bool) -> str:
    """An FTS5 query: each word as an English phrase (the porter tokenizer stems it)
    in title and body, or as its Swedish stem in the stems column."""
    parts = []
    for word in words:
        swedish = search_text.stem(word, "sv")
        parts.append(f'({{title body}} : "{word}" OR stems : "{swedish}")')
    return (" OR " if any_word else " AND ").join(parts)


def _reader_boost(reader: str):
    return case(
        (func.coalesce(SearchDocument.language, search_text.DEFAULT_LANGUAGE) == reader,
         READER_LANGUAGE_BOOST),
        else_=1.0,
    )


def _matches(words: list[str], visible, limit: int, reader: str = "en",
             any_word: bool = False) -> list[Match]:
    """Documents matching all the words (any of them with `any_word`), best first.
    The words are stemmed as English and as Swedish, so a document in either
    language is found; those in the reader's language rank a little higher."""
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        english = _postgres_query(words, "en", any_word)
        swedish = _postgres_query(words, "sv", any_word)
        tsquery = english.op("||")(swedish)
        tsv = literal_column("search_documents.tsv")
        rank = func.greatest(func.ts_rank(tsv, english), func.ts_rank(tsv, swedish))
        stmt = (
            select(
                *MATCH_COLUMNS,
                func.ts_headline(
                    _document_regconfig(),
                    func.coalesce(SearchDocument.title, "") + " " + SearchDocument.body,
                    tsquery,
                    f"StartSel={MARK_START}, StopSel={MARK_STOP}, "
                    "MaxFragments=1, MaxWords=24, MinWords=8",
                ),
                TranscriptSegment.start_ms,
            )
            .outerjoin(TranscriptSegment, _segment_join())
            .where(or_(tsv.op("@@")(english), tsv.op("@@")(swedish)), visible)
            .order_by((rank * _reader_boost(reader)).desc(), SearchDocument.id.desc())
            .limit(limit)
        )
        return [Match(*row) for row in db.session.execute(stmt)]
    # Every word quoted: FTS5 sees phrases of plain tokens, never operators.
    match = _fts_match(words, any_word)
    fts = table("search_fts", column("rowid"))
    engine_table = literal_column("search_fts")
    # A Swedish document's snippet comes from its body, never from its stems column.
    snippet_column = case((SearchDocument.stems == "", -1), else_=1)
    stmt = (
        select(
            *MATCH_COLUMNS,
            func.snippet(engine_table, snippet_column, MARK_START, MARK_STOP, "…", 16),
            TranscriptSegment.start_ms,
        )
        .select_from(fts.join(SearchDocument, SearchDocument.id == fts.c.rowid))
        .outerjoin(TranscriptSegment, _segment_join())
        .where(text("search_fts MATCH :match").bindparams(match=match), visible)
        .order_by(func.bm25(engine_table, 5.0, 1.0, 1.0) * _reader_boost(reader),
                  SearchDocument.id.desc())
        .limit(limit)
    )
    return [Match(*row) for row in db.session.execute(stmt)]


def _near_texts(word: str, visible) -> list[str]:
    """Titles and bodies of the visible documents that share the most trigrams
    with `word`: where the word it was meant to be is likely to be."""
    # Written as the trigram index's expression (migration 0010), so PostgreSQL uses it.
    whole = literal_column("(search_documents.title || ' ' || search_documents.body)")
    if db.engine.dialect.name == "postgresql":
        # Lower than pg_trgm's 0.6, so one or two wrong letters in a short word pass.
        db.session.execute(text("SET LOCAL pg_trgm.word_similarity_threshold = 0.3"))
        stmt = (
            select(whole)
            .where(literal(word).op("<%", is_comparison=True)(whole), visible)
            .order_by(func.word_similarity(word, whole).desc())
            .limit(TYPO_CANDIDATES)
        )
        return list(db.session.scalars(stmt))
    grams = sorted({word[i : i + 3] for i in range(len(word) - 2)})
    if not grams:
        return []
    match = " OR ".join(f'"{gram}"' for gram in grams)
    trigram = table("search_trigram", column("rowid"))
    stmt = (
        select(whole)
        .select_from(trigram.join(SearchDocument, SearchDocument.id == trigram.c.rowid))
        .where(text("search_trigram MATCH :grams").bindparams(grams=match), visible)
        .order_by(func.bm25(literal_column("search_trigram")))
        .limit(TYPO_CANDIDATES)
    )
    return list(db.session.scalars(stmt))


def _corrections(words: list[str], visible) -> list[str]:
    """The words with each one the index does not hold replaced by the nearest it
    does, among the documents the viewer may find (never a word from elsewhere)."""
    corrected = []
    for word in words:
        nearest = None
        if search_text.allowed_typos(word):
            nearest = search_text.nearest(word, _near_texts(word, visible))
        corrected.append(nearest or word)
    return corrected


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
    stamp = visibility.stamp or tuple(db.session.execute(select(*_stamp_columns())).one())
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
