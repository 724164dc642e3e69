"""On PostgreSQL the table counters go up after the commit, in a statement of their own
(coprod_study.data_versions): the written rows never wait for a counter row's lock."""

import threading
import time

import pytest
from sqlalchemy import create_engine, text

from coprod_study.extensions import db
from tests import factories as f
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(not POSTGRES_URL, reason="PostgreSQL only (TEST_DATABASE_URL)")


def _counter(connection, name: str) -> int:
    return connection.execute(
        text("SELECT version FROM data_versions WHERE name = :name"), {"name": name}
    ).scalar() or 0


@pytest.fixture(params=[True, "in-transaction"], ids=["after-commit", "in-transaction"])
def mode(request):
    return request.param


@pytest.fixture
def app_config(database_url, tmp_path, mode):
    from tests.conftest import _base_config

    return _base_config(tmp_path / "instance", database_url) | {"DATA_VERSIONS": mode}


def test_a_commit_lands_while_its_counter_row_is_locked_then_the_counter_follows(app, mode):
    """After the commit (the default): the row is committed at once, the counter follows
    when its row is free. Inside the transaction (the first design, kept for the
    benchmark): the commit itself waits for the row."""
    f.make_user(email="first@example.org")  # the counter row exists
    other = create_engine(POSTGRES_URL)
    try:
        with other.connect() as holder, other.connect() as watcher:
            holder.execute(text("SELECT 1 FROM data_versions WHERE name = 'users' FOR UPDATE"))
            before = _counter(watcher, "users")
            done = threading.Event()

            def write():
                with app.app_context():
                    f.make_user(email="while-locked@example.org")
                    db.session.remove()
                done.set()

            writer = threading.Thread(target=write, daemon=True)
            writer.start()
            # The person is in the database (committed) although the counter row is
            # held: only the counter's own statement waits.
            seen = None
            deadline = time.monotonic() + (20 if mode is True else 1.5)
            while time.monotonic() < deadline and not seen:
                seen = watcher.execute(text(
                    "SELECT id FROM users WHERE email = 'while-locked@example.org'")).scalar()
                watcher.commit()
                time.sleep(0.05)
            if mode is True:
                assert seen, "the write waited for the counter row's lock"
            else:
                assert not seen, "the counter should be raised inside the transaction"
            assert not done.is_set()
            assert _counter(watcher, "users") == before
            watcher.commit()
            holder.rollback()  # the lock goes; the counter goes up
            writer.join(20)
            assert done.is_set()
            assert _counter(watcher, "users") == before + 1
            assert watcher.execute(text(
                "SELECT count(*) FROM users WHERE email = 'while-locked@example.org'")).scalar()
    finally:
        other.dispose()


def test_the_counters_statement_leaves_the_connection_as_it_found_it(app):
    f.make_user()
    with db.engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw.autocommit is False
        assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
