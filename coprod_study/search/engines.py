"""The two full-text engines behind search: FTS5 on SQLite, tsvector on PostgreSQL; matches and near words."""

from collections import namedtuple

from sqlalchemy import and_, case, column, func, literal, literal_column, or_, select, table, text

from coprod_study.extensions import db
from coprod_study.models import SearchDocument, TranscriptSegment
from coprod_study.search import text as search_text
from coprod_study.search.documents import MARK_START, MARK_STOP

# Documents read for the words near a mistyped one.
TYPO_CANDIDATES = 40
# A document in the reader's language ranks as if it matched this much better.
READER_LANGUAGE_BOOST = 1.25


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
