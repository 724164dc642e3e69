"""Search in each document's language, with trigram indexes for typing errors

English and Swedish stemming (PostgreSQL: the 'english' and 'swedish' text search
configurations by the document's language; SQLite: FTS5's porter tokenizer, and a
stems column that holds the Swedish stems of Swedish documents), a trigram index
(pg_trgm; an FTS5 trigram table) that finds the word meant by a mistyped one, and
the documents of group posts marked with their author's language. The index is
rebuilt for the rows that are already there.

Revision ID: 0011
Revises: 0010
Created: 2026-12-03
"""

import re

import snowballstemmer
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

WORDS = re.compile(r"\w+", re.UNICODE)

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_documents_ai",
    "DROP TRIGGER IF EXISTS search_documents_ad",
    "DROP TRIGGER IF EXISTS search_documents_au",
    "DROP TABLE IF EXISTS search_fts",
    "DROP TABLE IF EXISTS search_trigram",
]
SQLITE_CREATE = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title, body, stems, content='search_documents', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE VIRTUAL TABLE search_trigram USING fts5(
        title, body, content='search_documents', content_rowid='id', tokenize='trigram')""",
    """CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
        INSERT INTO search_fts(rowid, title, body, stems)
        VALUES (new.id, new.title, new.body, new.stems);
        INSERT INTO search_trigram(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body, stems)
        VALUES ('delete', old.id, old.title, old.body, old.stems);
        INSERT INTO search_trigram(search_trigram, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END""",
    """CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body, stems)
        VALUES ('delete', old.id, old.title, old.body, old.stems);
        INSERT INTO search_trigram(search_trigram, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body, stems)
        VALUES (new.id, new.title, new.body, new.stems);
        INSERT INTO search_trigram(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
    "INSERT INTO search_trigram(search_trigram) VALUES ('rebuild')",
]
POSTGRES = [
    "DROP INDEX IF EXISTS ix_search_documents_tsv",
    "ALTER TABLE search_documents DROP COLUMN tsv",
    """ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE WHEN language = 'sv' THEN 'swedish'::regconfig
                                   ELSE 'english'::regconfig END, coalesce(title, '')), 'A')
        || setweight(to_tsvector(CASE WHEN language = 'sv' THEN 'swedish'::regconfig
                                      ELSE 'english'::regconfig END, coalesce(body, '')), 'B')
        ) STORED""",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX ix_search_documents_trgm ON search_documents
        USING gin ((title || ' ' || body) gin_trgm_ops)""",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_search_documents_trgm",
    "DROP INDEX IF EXISTS ix_search_documents_tsv",
    "ALTER TABLE search_documents DROP COLUMN tsv",
    """ALTER TABLE search_documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS
        (setweight(to_tsvector('simple', coalesce(title, '')), 'A')
         || setweight(to_tsvector('simple', coalesce(body, '')), 'B')) STORED""",
    "CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)",
]
SQLITE_DOWN = [
    """CREATE VIRTUAL TABLE search_fts USING fts5(
        title, body, content='search_documents', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER search_documents_ai AFTER INSERT ON search_documents BEGIN
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    """CREATE TRIGGER search_documents_ad AFTER DELETE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
    END""",
    """CREATE TRIGGER search_documents_au AFTER UPDATE ON search_documents BEGIN
        INSERT INTO search_fts(search_fts, rowid, title, body)
        VALUES ('delete', old.id, old.title, old.body);
        INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
    END""",
    "INSERT INTO search_fts(search_fts) VALUES ('rebuild')",
]


def _mark_languages(bind):
    """Posts, answers and replies are in their author's language; a thread in its starter's."""
    bind.execute(sa.text(
        "UPDATE search_documents SET language = (SELECT users.language FROM users "
        "WHERE users.id = search_documents.author_id) "
        "WHERE kind IN ('answer', 'reply', 'post') AND author_id IS NOT NULL"
    ))
    bind.execute(sa.text(
        "UPDATE search_documents SET language = (SELECT users.language FROM threads "
        "JOIN users ON users.id = threads.author_id WHERE threads.id = search_documents.ref_id) "
        "WHERE kind = 'thread'"
    ))


def _add_guests(bind):
    """An episode's document holds its guests' names and bios too."""
    guests = {}
    for episode_id, name, bio in bind.execute(sa.text(
        "SELECT episode_guests.episode_id, people.name, people.bio FROM episode_guests "
        "JOIN people ON people.id = episode_guests.person_id "
        "ORDER BY episode_guests.episode_id, episode_guests.position"
    )):
        guests.setdefault(episode_id, []).append(f"{name}. {bio or ''}".strip())
    for episode_id, summary in bind.execute(sa.text("SELECT id, summary FROM episodes")).all():
        if episode_id in guests:
            bind.execute(
                sa.text("UPDATE search_documents SET body = :body "
                        "WHERE kind = 'episode' AND ref_id = :id"),
                {"body": "\n\n".join([summary or "", *guests[episode_id]]), "id": episode_id},
            )


def _fill_stems(bind):
    stemmer = snowballstemmer.stemmer("swedish")
    rows = bind.execute(sa.text(
        "SELECT id, title, body FROM search_documents WHERE language = 'sv'"
    )).all()
    for row_id, title, body in rows:
        words = WORDS.findall(f"{title or ''} {body or ''}".lower())
        bind.execute(sa.text("UPDATE search_documents SET stems = :stems WHERE id = :id"),
                     {"stems": " ".join(stemmer.stemWords(words)), "id": row_id})


def upgrade():
    bind = op.get_bind()
    dialect = bind.dialect.name
    if dialect == "sqlite":
        # The FTS tables and triggers go first: the updates below must not reach an
        # index whose columns are about to change.
        for statement in SQLITE_DROP:
            op.execute(statement)
    # A plain ADD COLUMN (no table copy), so the full-text tables keep their content table.
    op.add_column('search_documents',
                  sa.Column('stems', sa.Text(), nullable=False, server_default=''))
    _mark_languages(bind)
    _add_guests(bind)
    _fill_stems(bind)
    if dialect == "sqlite":
        for statement in SQLITE_CREATE:
            op.execute(statement)
    elif dialect == "postgresql":
        for statement in POSTGRES:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in SQLITE_DROP:
            op.execute(statement)
        op.drop_column('search_documents', 'stems')
        for statement in SQLITE_DOWN:
            op.execute(statement)
    else:
        if dialect == "postgresql":
            for statement in POSTGRES_DOWN:
                op.execute(statement)
        op.drop_column('search_documents', 'stems')
