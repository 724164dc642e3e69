"""Consistent copies of the SQLite database while the app runs, and restoring one."""

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from flask_babel import gettext as _

from coprod_study.errors import DomainError
from coprod_study.extensions import db

PG_DUMP_ADVICE = """\
The database is PostgreSQL: back it up with PostgreSQL's own tools, which make a
consistent copy while the app runs:

    pg_dump --format=custom --file=coprod-study.dump "$DATABASE_URL"

and restore into an empty database with:

    pg_restore --clean --if-exists --no-owner --dbname="$DATABASE_URL" coprod-study.dump

(use a URL without the "+psycopg" part: postgresql://user:password@host/name)."""


def sqlite_path() -> Path | None:
    """The database file, or None when the database is not a SQLite file."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def integrity_check(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


@dataclass
class Copied:
    path: Path
    pages: int
    integrity: str


def _copy(source: sqlite3.Connection, target: sqlite3.Connection) -> int:
    # pages=-1: one step, under one read transaction of the source, so the copy
    # is a snapshot of one moment even while other connections write.
    source.backup(target, pages=-1)
    return target.execute("PRAGMA page_count").fetchone()[0]


def backup(destination: str | Path) -> Copied:
    """Copy the live SQLite database to `destination` (a new file).

    :raise DomainError: not SQLite, or the destination exists.
    """
    live = sqlite_path()
    if live is None:
        raise DomainError(PG_DUMP_ADVICE)
    destination = Path(destination)
    if destination.exists():
        raise DomainError(_("%(destination)s exists already; choose a new file name.", destination=destination))
    partial = destination.with_name(destination.name + ".partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(live, timeout=30)
    target = sqlite3.connect(partial)
    try:
        pages = _copy(source, target)
        # A self-contained file: no WAL beside it.
        target.execute("PRAGMA journal_mode=DELETE")
    finally:
        target.close()
        source.close()
    result = integrity_check(partial)
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise DomainError(_("The copy failed its integrity check: %(result)s", result=result))
    partial.replace(destination)
    return Copied(destination, pages, result)


def check_backup(path: str | Path) -> Path:
    """:raise DomainError: not a readable SQLite backup of this app."""
    path = Path(path)
    if not path.is_file():
        raise DomainError(_("%(path)s: no such file.", path=path))
    try:
        result = integrity_check(path)
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            version = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise DomainError(_("%(path)s is not a SQLite database of this app (%(error)s).", path=path, error=error)) from error
    if result != "ok":
        raise DomainError(_("%(path)s fails SQLite's integrity check: %(result)s", path=path, result=result))
    if version is None:
        raise DomainError(_("%(path)s has no schema version; it is not a backup of this app.", path=path))
    return path


def restore(source_path: str | Path) -> Copied:
    """Replace the live database's content with the backup's, in one step."""
    live = sqlite_path()
    if live is None:
        raise DomainError(PG_DUMP_ADVICE)
    source_path = check_backup(source_path)
    # The app's own connections hold no transaction across this.
    db.session.remove()
    db.engine.dispose()
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(live, timeout=30)
    try:
        target.execute("PRAGMA busy_timeout=30000")
        pages = _copy(source, target)
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        source.close()
        target.close()
    return Copied(live, pages, integrity_check(live))
