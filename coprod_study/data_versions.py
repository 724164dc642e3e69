"""Which tables have changed: a counter per table that every writing commit raises.

Each statement that goes through an app's engine is looked at once (the answer
is kept per statement text). An INSERT, UPDATE or DELETE notes its table on the
connection; when the transaction commits, the counters of those tables in
`data_versions` are raised. A statement that may write but whose table cannot
be told (DDL, TRUNCATE) raises "*", the counter every reader depends on. A
rollback forgets what was noted.

Where they are raised depends on the database. SQLite runs one writer at a
time anyway: there they go up inside the committing transaction. On
PostgreSQL that would make every commit that wrote a table hold the table's
counter row locked until its commit record is on disk, and every other writer
of that table wait for it (benchmarks/write_contention.py measured half the
write throughput lost at 32 writers). So there the transaction commits first,
and then one statement, a transaction of its own that waits for no disk flush
(synchronous_commit off), raises them all; the row locks last only while the
server runs it. A reader's kept page is still never stale for long: it notes
the counters before it reads anything, so a page built from rows committed
before their counter went up carries the old counter and is dropped at once.
A reader may get a kept page in the moment between a commit and its counters
(as if it had come a moment earlier); the writer's own next page comes after
them. Counters lost in a crash between the two are made up for by
PAGE_CACHE_SECONDS.

Readers use the other half: while `recording()` is open, the tables each
statement reads are collected, so a page can note the counters of exactly the
tables it was built from (coprod_study.page_cache).

Writes that bypass the app (psql, another program) are not counted; kept
pages also expire after a while (PAGE_CACHE_SECONDS) for that reason.
"""

import functools
import logging
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

log = logging.getLogger(__name__)
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


def count_writes(engine, after_commit: bool = True) -> None:
    """Count the writes that go through `engine` (once per engine). `after_commit`: on
    PostgreSQL, raise the counters after the commit (see above); False raises them in
    the committing transaction there too (to measure the difference)."""
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
        if not written:
            return
        if after_commit and conn.dialect.name == "postgresql":
            _raise_after_commit(conn, written)
        else:
            _raise_counters(conn, written)


def _names(written: set) -> list[str]:
    names = set(written)
    for name in written:
        names.update(TRIGGERED.get(name, ()))
    return sorted(names)


def _raise_after_commit(conn, written: set) -> None:
    """Commit the transaction (SQLAlchemy's own commit, next, finds nothing left to
    commit), then raise the counters of `written` in one statement of their own, in name
    order (two of them lock the rows in the same order: no deadlock)."""
    from psycopg import errors, sql

    dbapi_connection = conn.connection.dbapi_connection
    try:
        dbapi_connection.commit()
    except conn.dialect.loaded_dbapi.Error as error:
        # Raised as SQLAlchemy raises a failed commit.
        conn._handle_dbapi_exception(error, None, None, None, None)
    # One simple query, run by the server as one implicit transaction: the rows are
    # locked only while it runs, with no round trip or disk flush in between.
    statement = sql.SQL(
        "SET LOCAL synchronous_commit TO off; "
        "INSERT INTO data_versions (name, version) VALUES {} "
        "ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1"
    ).format(sql.SQL(", ").join(sql.SQL("({}, 1)").format(sql.Literal(name))
                                for name in _names(written)))
    dbapi_connection.autocommit = True
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(statement)
    except errors.UndefinedTable:
        pass  # before the migration that makes the table, nothing is counted
    except conn.dialect.loaded_dbapi.Error:
        # A connection lost just after the commit loses the counters (kept pages then
        # last at most PAGE_CACHE_SECONDS).
        log.warning("Table counters not raised after a commit", exc_info=True)
    finally:
        if not dbapi_connection.closed:
            dbapi_connection.autocommit = False


def _raise_counters(conn, written: set) -> None:
    """Raise the counters of `written` in the transaction about to commit, in name
    order (two commits on PostgreSQL lock the rows in the same order: no deadlock).

    Runs on the DBAPI cursor, inside a savepoint: before the migration that makes
    the table has run, the commit goes ahead without counting.
    """
    names = _names(written)
    upsert = _UPSERT.replace("%s", "?") if conn.dialect.paramstyle == "qmark" else _UPSERT
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute("SAVEPOINT data_versions")
        try:
            for name in names:
                cursor.execute(upsert, (name,))
        except conn.dialect.loaded_dbapi.Error:
            cursor.execute("ROLLBACK TO SAVEPOINT data_versions")
        cursor.execute("RELEASE SAVEPOINT data_versions")
    finally:
        cursor.close()
