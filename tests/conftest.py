"""Fixtures: an app per test on a freshly migrated database (SQLite, or PostgreSQL)."""

import os
import re
import shutil
import sqlite3
from contextlib import contextmanager

import pytest
from flask import g, request_started
from sqlalchemy import create_engine, event, text

from coprod_study import MIGRATIONS_DIR, create_app
from coprod_study.extensions import db
from tests import factories

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL")
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def _base_config(instance_path, database_url):
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": None,
        "BASE_URL": "http://localhost",
    }


def _migrate(database_url, instance_path):
    from flask_migrate import upgrade

    app = create_app(_base_config(instance_path, database_url))
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per run: a template SQLite file, or the PostgreSQL schema."""
    root = tmp_path_factory.mktemp("db-template")
    if POSTGRES_URL:
        engine = create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(POSTGRES_URL, root / "instance")
        return None
    path = root / "template.sqlite3"
    _migrate(f"sqlite:///{path}", root / "instance")
    # Fold the WAL into the main file so a plain copy is complete.
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()
    return path


def _truncate_postgres():
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        tables = [
            row[0]
            for row in connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            names = ", ".join(f'"{name}"' for name in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            # The one row the migrations write, as a freshly migrated database has it.
            connection.execute(text("INSERT INTO search_generation (id, value) VALUES (1, 0)"))
    engine.dispose()


@pytest.fixture
def database_url(database_template, tmp_path):
    if POSTGRES_URL:
        yield POSTGRES_URL
        _truncate_postgres()
        return
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(database_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def app_config(database_url, tmp_path):
    """Override in a test module to change settings before the app is built."""
    return _base_config(tmp_path / "instance", database_url)


def _fresh_request_globals(sender, **extra):
    # The fixture's app context outlives each request, so without this `g`
    # would carry one request's signed-in user and CSRF token into the next
    # request, even one from another client. In production every request gets
    # a fresh app context and so a fresh `g`.
    g.__dict__.clear()


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    request_started.connect(_fresh_request_globals, application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sample_catalog(app):
    from coprod_study.services import catalog

    catalog.load_file(catalog.sample_catalog_path())
    return catalog


@pytest.fixture
def make_user(app):
    return factories.make_user


@pytest.fixture
def outbox(app):
    from pathlib import Path

    def read():
        folder = Path(app.config["OUTBOX_DIR"])
        if not folder.exists():
            return []
        import email

        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(folder.glob("*.eml"))
        ]

    return read


def csrf_token(client, path="/") -> str:
    response = client.get(path)
    match = CSRF_META.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client, path, data=None, follow_redirects=False, token_from="/"):
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(path, data=payload, follow_redirects=follow_redirects)


def login(client, user_or_email, password=factories.DEFAULT_PASSWORD, remember=False):
    email = getattr(user_or_email, "email", user_or_email)
    data = {"email": email, "password": password}
    if remember:
        data["remember"] = "y"
    response = post_form(client, "/auth/login", data, token_from="/auth/login")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def count_queries(app):
    """Counts SQL statements run inside the `with` block."""

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counter
