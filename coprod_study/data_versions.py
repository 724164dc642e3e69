"""Which tables have changed: a counter per table that every writing commit raises.

Each statement that goes through an app's engine is looked at once (the answer
is kept per statement text). An INSERT, UPDATE or DELETE notes its table on the
connection; when the transaction commits, the counters of those tables in
`data_versions` are raised in that same transaction, so no reader can see the
new rows with the old counter. A statement that may write but whose table
cannot be told (DDL, TRUNCATE) raises "*", the counter
every reader depends on. A rollback forgets what was noted.

Readers use the other half: while `recording()` is open, the tables each
statement reads are collected, so a page can note the counters of exactly the
tables it was built from (coprod_study.page_cache).

Writes that bypass the app (psql, another program) are not counted; kept
pages also expire after a while (PAGE_CACHE_SECONDS) for that reason.
"""

import functools
import re
import weakref
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context
from sqlalchemy import String, cast, event, func, select

TABLE = "data_versions"
EVERYTHING = "*"
# Tables that database triggers write when another table is written.
TRIGGERED = {"search_documents": ("search_fts",)}
# Tables made outside the models (raw DDL in a migration) that pages may read.
UNMODELLED = ("search_fts",)

_PENDING = "coprod_written_tables"
_READS = {"SELECT", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "SET",
          "SHOW", "EXPLAIN", "END", "VALUES"}
_DML = re.compile(
    r"\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)\s+\"?(\w+)\"?",
    re.IGNORECASE,
)
_FIRST_WORD = re.compile(r"\s*(\w+)")
_WORD = re.compile(r"\w+")

# Run on the DBAPI cursor: %s is psycopg's placeholder, ? sqlite3's.
_UPSERT = (
    "INSERT INTO data_versions (name, version) VALUES (%s, 1) "
    "ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1"
)

_counted_engines: "weakref.WeakSet" = weakref.WeakSet()
_recording: ContextVar[set | None] = ContextVar("coprod_recorded_tables", default=None)


@functools.lru_cache(maxsize=4096)
def written_tables(statement: str) -> frozenset:
    """The tables `statement` writes: empty for a read, {"*"} when it may write but
    the table cannot be told."""
    first = _FIRST_WORD.match(statement)
    verb = first.group(1).upper() if first else ""
    if verb in _READS:
        return frozenset()
    found = _DML.findall(statement)
    if verb == "WITH":
        return frozenset(found)
    if verb in {"INSERT", "UPDATE", "DELETE", "REPLACE"} and found:
        # Only the first: an UPDATE … FROM or INSERT … SELECT reads the others.
        return frozenset(found[:1])
    return frozenset({EVERYTHING})


@functools.lru_cache(maxsize=4096)
def read_tables(statement: str, known: frozenset) -> frozenset:
    """The known table names that `statement` mentions (a name used as a column or
    alias too counts: a dependency too many costs a kept page, never a stale one)."""
    return frozenset(word for word in _WORD.findall(statement) if word in known) - {TABLE}


@contextmanager
def recording():
    """Collect the tables read by the statements run inside the block; yields the set.
    Inside another recording, the tables are noted in that one too."""
    tables: set = set()
    outer = _recording.get()
    token = _recording.set(tables)
    try:
        yield tables
    finally:
        _recording.reset(token)
        if outer is not None:
            outer.update(tables)


def note_read(tables) -> None:
    """Note tables as read by the open recording, if any: what a part of a page kept
    elsewhere was built from (coprod_study.page_cache.kept_part)."""
    recorded = _recording.get()
    if recorded is not None:
        recorded.update(tables)


def current_versions(session) -> dict:
    """Every table's counter (a table never written has none: 0): those read with the
    signed-in person in this request (`versions_column`), else in one query."""
    from coprod_study.models import DataVersion

    if has_request_context() and "data_versions" in g:
        return g.data_versions
    return dict(session.execute(select(DataVersion.name, DataVersion.version)).all())


def versions_column():
    """Every counter as one text column ("answers:12,users:3"), so that the query that
    loads the signed-in person brings them too (see load_user)."""
    from coprod_study.models import DataVersion

    return (
        select(func.aggregate_strings(
            DataVersion.name + ":" + cast(DataVersion.version, String), ","
        ))
        .scalar_subquery()
        .label("data_versions")
    )


def remember_versions(text: str | None) -> None:
    """Keep the counters `versions_column` read for the rest of the request."""
    pairs = (item.rpartition(":") for item in (text or "").split(",") if item)
    g.data_versions = {name: int(number) for name, _, number in pairs}


def count_writes(engine) -> None:
    """Count the writes that go through `engine` (once per engine)."""
    if engine in _counted_engines:
        return
    _counted_engines.add(engine)
    from coprod_study.extensions import db

    known = frozenset(db.metadata.tables) | frozenset(UNMODELLED)

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn, cursor, statement, parameters, context, executemany):
        tables = _recording.get()
        if tables is not None:
            tables.update(read_tables(statement, known))
        written = written_tables(statement)
        if written and TABLE not in written:
            conn.info.setdefault(_PENDING, set()).update(written)

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.info.pop(_PENDING, None)

    @event.listens_for(engine, "rollback")
    def _rollback(conn):
        conn.info.pop(_PENDING, None)

    @event.listens_for(engine, "commit")
    def _commit(conn):
        written = conn.info.pop(_PENDING, None)
        if written:
            _raise_counters(conn, written)


def _raise_counters(conn, written: set) -> None:
    """Raise the counters of `written` in the transaction about to commit, in name
    order (two commits on PostgreSQL lock the rows in the same order: no deadlock).

    Runs on the DBAPI cursor, inside a savepoint: before the migration that makes
    the table has run, the commit goes ahead without counting.
    """
    names = set(written)
    for name in written:
        names.update(TRIGGERED.get(name, ()))
    upsert = _UPSERT.replace("%s", "?") if conn.dialect.paramstyle == "qmark" else _UPSERT
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute("SAVEPOINT data_versions")
        try:
            for name in sorted(names):
                cursor.execute(upsert, (name,))
        except conn.dialect.loaded_dbapi.Error:
            cursor.execute("ROLLBACK TO SAVEPOINT data_versions")
        cursor.execute("RELEASE SAVEPOINT data_versions")
    finally:
        cursor.close()
