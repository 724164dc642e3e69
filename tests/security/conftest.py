"""Fixtures for the security suites: the seeded world, a signed-in client per role, table snapshots."""

import copy
import functools
import shutil
import sqlite3
import tempfile
import time

import pytest
from sqlalchemy import select

from coprod_study import create_app
from coprod_study.extensions import db
from tests import databases

# Chromium and the live server of the browser tests, imported here (not into a test
# module) so that `browser` is scoped to this package and closes before another
# package opens its own: two Playwright instances cannot live in one process.
from tests.browser.conftest import browser, live_server  # noqa: F401
from tests.conftest import POSTGRES_URL, _base_config, _migrate
from tests.security import world as world_module

# Columns a request may change without writing anything of the person's: when
# an API token was last used (written at most once a minute by design), and the
# id of a search document, which the index rewrites whenever its source row is
# flushed, even unchanged (on PostgreSQL the rewritten row gets a new id).
VOLATILE_COLUMNS = {"api_tokens": {"last_used_at"}, "search_documents": {"id"}}


@functools.cache
def _all_rules() -> tuple:
    with tempfile.TemporaryDirectory(prefix="coprod-rules-") as folder:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "collect",
                "INSTANCE_PATH": folder,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
            }
        )
        return tuple(sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)))


def url_rules(methods=None) -> list:
    """Every URL rule of the app (read at collection time, no database needed), or those
    that accept one of `methods`: new routes join the suites by themselves."""
    if methods is None:
        return list(_all_rules())
    return [rule for rule in _all_rules() if rule.methods & set(methods)]


@pytest.fixture
def app_config(database_url, tmp_path):
    config = _base_config(tmp_path / "instance", database_url)
    # Rate limits have their own tests; here they would only get in the way.
    config["RATELIMIT_ENABLED"] = False
    return config


@pytest.fixture(scope="session")
def world_template(request, tmp_path_factory):
    """The sample catalog and the seeded world, built once per run into a database
    that each test copies (a file on SQLite, a template database on PostgreSQL)."""
    root = tmp_path_factory.mktemp("world")
    name = None
    if POSTGRES_URL:
        databases.drop_stale()
        name = databases.private_name("world")
        url = databases.create(name)
        _migrate(url, root / "instance")
    else:
        path = root / "world.sqlite3"
        shutil.copyfile(request.getfixturevalue("database_template"), path)
        url = f"sqlite:///{path}"
    config = _base_config(root / "instance", url)
    app = create_app(config)
    with app.app_context():
        from coprod_study.catalog import service as catalog

        catalog.load_file(catalog.sample_catalog_path())
        built = world_module.build()
        db.session.remove()
        db.engine.dispose()
    if name is None:
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.close()
    yield {"path": None if name else path, "name": name, "world": built}
    if name:
        databases.drop(name)


def _copy_world(world_template, folder):
    if world_template["name"]:
        name = databases.private_name("w")
        return databases.create(name, template=world_template["name"]), name
    path = folder / "world.sqlite3"
    shutil.copyfile(world_template["path"], path)
    return f"sqlite:///{path}", None


@pytest.fixture(scope="module")
def shared_world_url(world_template, tmp_path_factory):
    url, name = _copy_world(world_template, tmp_path_factory.mktemp("shared-world"))
    yield url
    if name:
        databases.drop(name)


@pytest.fixture
def database_url(request, world_template, tmp_path):
    """Every security test starts from its own copy of the seeded world, except in
    modules that set SHARE_WORLD = True: their tests write nothing (they assert so),
    so they share one copy per module."""
    if getattr(request.module, "SHARE_WORLD", False):
        yield request.getfixturevalue("shared_world_url")
        return
    if world_template["name"]:
        name = databases.private_name("w")
        yield databases.create(name, template=world_template["name"])
        databases.drop(name)
        return
    path = tmp_path / "world.sqlite3"
    shutil.copyfile(world_template["path"], path)
    yield f"sqlite:///{path}"


@pytest.fixture
def world(app, world_template):
    return copy.deepcopy(world_template["world"])


def sign_in(client, user) -> None:
    """What a successful sign-in leaves in the session (security.start_session), without
    the deliberately slow password check; the sign-in itself is tested in test_sessions."""
    with client.session_transaction() as session:
        session.clear()
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        session["auth_at"] = int(time.time())
        session.permanent = True


@pytest.fixture
def clients(app, world):
    """A test client per role, signed in (the visitor's is not)."""
    made = {}
    for role in world_module.ROLES:
        client = app.test_client()
        user = world.user(role)
        if user is not None:
            sign_in(client, user)
        made[role] = client
    return made


def snapshot() -> dict:
    """Every row of every table, as plain values (what "nothing was written" compares)."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name == "data_versions":
            # Counters that move with any write, the VOLATILE_COLUMNS included (an
            # API token's last use); a write that matters shows in its own table.
            continue
        skip = VOLATILE_COLUMNS.get(table.name, set())
        columns = [column for column in table.columns if column.name not in skip]
        result = db.session.execute(select(*columns)).all()
        rows[table.name] = sorted(tuple(map(repr, row)) for row in result)
    db.session.rollback()
    return rows


def differences(before: dict, after: dict) -> list[str]:
    changed = []
    for name in before:
        if before[name] != after[name]:
            added = set(after[name]) - set(before[name])
            gone = set(before[name]) - set(after[name])
            changed.append(f"{name}: +{len(added)} -{len(gone)} rows (e.g. {sorted(added)[:1]})")
    return changed
