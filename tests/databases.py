"""Private PostgreSQL databases for tests that must not share the suite's `test` database."""

import itertools
import os
import re

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
PREFIX = "coprod_t_"
_numbers = itertools.count(1)


def _admin():
    return create_engine(
        make_url(POSTGRES_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )


def private_name(purpose: str) -> str:
    """A database name of this process: several test runs may share one server."""
    return f"{PREFIX}{purpose}_{os.getpid()}_{next(_numbers)}"


def url_for(name: str) -> str:
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def create(name: str, template: str | None = None) -> str:
    """Create database `name` (a copy of `template` if given) and return its URL."""
    assert re.fullmatch(r"[a-z0-9_]+", name), name
    engine = _admin()
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            statement = f'CREATE DATABASE "{name}"'
            if template:
                statement += f' TEMPLATE "{template}"'
            connection.execute(text(statement))
    finally:
        engine.dispose()
    return url_for(name)


def drop(name: str) -> None:
    engine = _admin()
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def drop_stale() -> None:
    """Drop private databases left behind by test runs that no longer run (on this machine)."""
    engine = _admin()
    try:
        with engine.connect() as connection:
            names = connection.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :prefix"),
                {"prefix": PREFIX + "%"},
            ).scalars().all()
            for name in names:
                match = re.fullmatch(rf"{PREFIX}[a-z]+_(\d+)_\d+", name)
                if match and not _alive(int(match.group(1))):
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
