"""Connection settings: SQLite in WAL mode with busy timeout, foreign keys, BEGIN IMMEDIATE."""

import sqlite3

from flask import g, has_app_context, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Made by a migration with raw DDL for one database only; not in the models.
FULL_TEXT_OBJECTS = (
    "search_fts", "search_trigram", "tsv", "ix_search_documents_tsv", "ix_search_documents_trgm",
)


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


# --- Migrations -----------------------------------------------------------------------
#
# Flask-Migrate brings Alembic (about 11 MB per process). Web workers never
# migrate, so both load only when a migration runs: `coprod-study db ...`,
# `init-db`/`serve`, flask_migrate.upgrade() in tests and benchmarks.


class LazyMigrations:
    """app.extensions["migrate"]: Flask-Migrate's configuration, made on first use."""

    def __init__(self, db, directory, **options):
        self._db = db
        self._directory = str(directory)
        self._options = options
        self._loaded = None

    def _load(self):
        if self._loaded is None:
            from flask_migrate import Migrate, _MigrateConfig

            migrate = Migrate(db=self._db, directory=self._directory, **self._options)
            self._loaded = _MigrateConfig(migrate, self._db, **migrate.alembic_ctx_kwargs)
        return self._loaded

    def __getattr__(self, name):
        return getattr(self._load(), name)


def _lazy_db_group():
    import click
    from flask import g
    from flask.cli import with_appcontext

    class LazyDbGroup(click.Group):
        """`coprod-study db ...`: Flask-Migrate's commands, imported when one runs."""

        @staticmethod
        def _commands():
            from flask_migrate.cli import db as commands

            return commands

        def list_commands(self, ctx):
            return self._commands().list_commands(ctx)

        def get_command(self, ctx, name):
            return self._commands().get_command(ctx, name)

    @with_appcontext
    def remember_options(directory, x_arg):
        # What Flask-Migrate's own group does; its commands read these from g.
        g.directory = directory
        g.x_arg = x_arg

    return LazyDbGroup(
        "db",
        help="Database migrations (Alembic, through Flask-Migrate).",
        callback=remember_options,
        params=[
            click.Option(["-d", "--directory"], default=None,
                         help="Migration script directory (default: the app's migrations)"),
            click.Option(["-x", "--x-arg"], multiple=True,
                         help="Additional arguments consumed by custom env.py scripts"),
        ],
    )


def register_migrations(app, db, directory) -> None:
    app.extensions["migrate"] = LazyMigrations(db, directory, render_as_batch=True)
    app.cli.add_command(_lazy_db_group())
