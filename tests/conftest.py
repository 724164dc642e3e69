"""Fixtures: an app per test on a freshly migrated database (SQLite, or PostgreSQL)."""

import os
import re
import shutil
import sqlite3
from contextlib import contextmanager

import pytest
from flask import g, request_started
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError

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
    _fold_wal(path)
    return path


def _fold_wal(path):
    """Fold the WAL into the main file so a plain copy is complete."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()


def _load_sample_catalog(database_url, instance_path):
    from coprod_study.catalog import service as catalog

    application = create_app(_base_config(instance_path, database_url))
    with application.app_context():
        catalog.load_file(catalog.sample_catalog_path())
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="session")
def catalog_template(database_template, tmp_path_factory):
    """The sample catalog loaded once per run, for the tests that ask for
    `sample_catalog` (loading it costs 0.1 to 0.2 s a test). On SQLite: a copy of the
    migrated template holding it. On PostgreSQL: its rows, kept in a schema of their
    own (see `_restore_postgres_catalog`)."""
    root = tmp_path_factory.mktemp("db-catalog")
    if POSTGRES_URL:
        _load_sample_catalog(POSTGRES_URL, root / "instance")
        snapshot = _snapshot_postgres_catalog()
        _truncate_postgres()
        return snapshot
    path = root / "catalog.sqlite3"
    shutil.copyfile(database_template, path)
    _load_sample_catalog(f"sqlite:///{path}", root / "instance")
    _fold_wal(path)
    return path


PG_SNAPSHOT_SCHEMA = "test_catalog_snapshot"


def _public_tables(connection) -> list[str]:
    return [
        row[0]
        for row in connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        )
    ]


def _snapshot_postgres_catalog() -> list[tuple[str, str, str | None]]:
    """Copy every public table that holds rows into PG_SNAPSHOT_SCHEMA; the tables, in an
    order their foreign keys allow, each with its column list (generated columns left out:
    PostgreSQL works them out again) and the sequence of its `id`, if it has one."""
    order = [table.name for table in db.metadata.sorted_tables]
    snapshot = []
    with _postgres().begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SNAPSHOT_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {PG_SNAPSHOT_SCHEMA}"))
        tables = _public_tables(connection)
        tables.sort(key=lambda name: (order.index(name) if name in order else len(order), name))
        for name in tables:
            probe = text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')  # noqa: S608
            if not connection.execute(probe).scalar():
                continue
            names = connection.execute(
                text(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'public' AND table_name = :name "
                    "AND is_generated = 'NEVER' ORDER BY ordinal_position"
                ),
                {"name": name},
            ).scalars().all()
            columns = ", ".join(f'"{column}"' for column in names)
            connection.execute(
                text(
                    f'CREATE TABLE {PG_SNAPSHOT_SCHEMA}."{name}" AS '  # noqa: S608
                    f'SELECT {columns} FROM public."{name}"'
                )
            )
            sequence = None
            if "id" in names:
                sequence = connection.execute(
                    text("SELECT pg_get_serial_sequence(:table, 'id')"),
                    {"table": f'public."{name}"'},
                ).scalar()
            snapshot.append((name, columns, sequence))
    return snapshot


def _restore_postgres_catalog(snapshot: list[tuple[str, str, str | None]]) -> None:
    """Put the sample catalog's rows back into the truncated schema, and move each
    sequence past them as loading the catalog would have."""
    with _postgres().begin() as connection:
        # The truncation wrote search_generation's one row; the snapshot holds it too.
        connection.execute(text("DELETE FROM search_generation"))
        for name, columns, _sequence in snapshot:
            connection.execute(
                text(
                    f'INSERT INTO public."{name}" ({columns}) OVERRIDING SYSTEM VALUE '  # noqa: S608
                    f'SELECT {columns} FROM {PG_SNAPSHOT_SCHEMA}."{name}"'
                )
            )
        for name, _columns, sequence in snapshot:
            if sequence:
                connection.execute(
                    text(f'SELECT setval(:sequence, (SELECT max(id) FROM public."{name}"))'),  # noqa: S608
                    {"sequence": sequence},
                )


_pg_engine = None


def _postgres():
    """One engine for the suite's own work on the PostgreSQL test database."""
    global _pg_engine
    if _pg_engine is None:
        _pg_engine = create_engine(POSTGRES_URL)
    return _pg_engine


def _truncate_postgres():
    """Empty every table and restart every sequence, as a freshly migrated database is.

    DELETE on the few tables a test filled, children first, is 10 times quicker than
    TRUNCATE of all 42 (0.14 s a test, most of it making new files for each table);
    TRUNCATE remains for the rare case DELETE cannot do it. Table names come from
    pg_tables, not from a test."""
    order = [table.name for table in reversed(db.metadata.sorted_tables)]
    try:
        with _postgres().begin() as connection:
            tables = _public_tables(connection)
            probes = " UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")"  # noqa: S608
                for name in tables
            )
            filled = connection.execute(text(probes)).scalars().all() if tables else []
            filled.sort(key=lambda name: order.index(name) if name in order else -1)
            for name in filled:
                connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608
            _restart_sequences_and_generation(connection)
    except DBAPIError:
        with _postgres().begin() as connection:
            names = ", ".join(f'"{name}"' for name in _public_tables(connection))
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            _restart_sequences_and_generation(connection)


def _restart_sequences_and_generation(connection):
    connection.execute(
        text(
            "SELECT setval(oid::regclass, 1, false) FROM pg_class "
            "WHERE relkind = 'S' AND relnamespace = 'public'::regnamespace"
        )
    )
    # The one row the migrations write, as a freshly migrated database has it.
    connection.execute(text("INSERT INTO search_generation (id, value) VALUES (1, 0)"))


# Set on a test's node when its database starts with the sample catalog in it.
CATALOG_COPIED = pytest.StashKey[bool]()


@pytest.fixture
def database_url(request, database_template, tmp_path):
    wants_catalog = "sample_catalog" in request.fixturenames
    if wants_catalog:
        request.node.stash[CATALOG_COPIED] = True
    if POSTGRES_URL:
        if wants_catalog:
            _restore_postgres_catalog(request.getfixturevalue("catalog_template"))
        yield POSTGRES_URL
        _truncate_postgres()
        return
    source = database_template
    if wants_catalog:
        source = request.getfixturevalue("catalog_template")
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(source, path)
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


class _SharedTemplateCode(BytecodeCache):
    """Compiled templates shared by the run's apps: each test builds its own app, whose
    new Jinja environment would otherwise compile every template it renders again
    (a quarter of the suite's time). Keyed by template name and source checksum."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket):
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = _SharedTemplateCode()


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    application.jinja_env.bytecode_cache = TEMPLATE_CODE
    request_started.connect(_fresh_request_globals, application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sample_catalog(request, app):
    """The bundled sample catalog, loaded: the test's database starts with it (see
    `database_url`), unless a test module brings a database of its own."""
    from coprod_study.catalog import service as catalog

    if not request.node.stash.get(CATALOG_COPIED, False):
        catalog.load_file(catalog.sample_catalog_path())
    return catalog


@pytest.fixture
def make_user(app):
    return factories.make_user


@pytest.fixture
def outbox(app):
    """The mails delivered so far: runs one delivery pass over the outbox table (what a
    worker would do), then reads the .eml folder."""
    from pathlib import Path

    from coprod_study.mail import outbox as outbox_service

    def read():
        outbox_service.deliver_due()
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
