"""Connection settings: SQLite in WAL mode with busy timeout, foreign keys, BEGIN IMMEDIATE."""

import sqlite3

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Made by a migration with raw DDL for one database only; not in the models.
FULL_TEXT_OBJECTS = ("search_fts", "tsv", "ix_search_documents_tsv")


def is_modelled(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic include_object hook: skip the full-text index objects."""
    return not (name or "").startswith(FULL_TEXT_OBJECTS)
BUSY_TIMEOUT_MS = 15_000


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # We emit BEGIN ourselves (below); pysqlite's own would be a deferred one.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _will_write() -> bool:
    # Page views only read; everything else (POSTs, the CLI, tests) may write.
    if has_app_context() and g.get("write_intent"):
        return True
    return not (has_request_context() and request.method in READ_ONLY_METHODS)


def begin_writing(session) -> None:
    """From a page view, end the read transaction so the next one starts IMMEDIATE."""
    session.commit()
    g.write_intent = True


@event.listens_for(Engine, "begin")
def _begin_sqlite(connection):
    if connection.dialect.name != "sqlite":
        return
    # A deferred BEGIN that later writes cannot wait on the busy timeout and
    # fails with "database is locked"; IMMEDIATE takes the write lock up front.
    connection.exec_driver_sql("BEGIN IMMEDIATE" if _will_write() else "BEGIN")
