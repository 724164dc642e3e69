"""`coprod-study backup` and `restore`: a consistent copy while the app writes, restored exactly."""

import sqlite3
import threading
import time

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.models import User
from tests import factories as f
from tests.conftest import POSTGRES_URL

sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="the SQLite online backup API")


def _tables(path) -> dict[str, list[tuple]]:
    """Every table's rows, in a stable order, read straight from the file."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'search_fts%' ORDER BY name"
            )
        ]
        return {
            name: connection.execute(f'SELECT * FROM "{name}" ORDER BY 1').fetchall()  # noqa: S608
            for name in names
        }
    finally:
        connection.close()


def _live_path(app):
    from coprod_study.admin.backup import sqlite_path

    return sqlite_path()


@sqlite_only
def test_backup_under_concurrent_writes_then_restore_is_exact(app, sample_catalog, tmp_path):
    for _ in range(5):
        f.make_user()
    runner = app.test_cli_runner()
    stop = threading.Event()
    written: list[str] = []
    errors: list[Exception] = []

    def writer():
        try:
            with app.app_context():
                number = 0
                while not stop.is_set():
                    email = f"writer-{number}@example.org"
                    db.session.add(User(email=email, display_name=f"Writer {number}", password_hash="x"))
                    db.session.commit()
                    written.append(email)
                    number += 1
                    time.sleep(0.002)
                db.session.remove()
        except Exception as error:  # asserted below
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    while len(written) < 20:
        time.sleep(0.01)
    backup = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["backup", str(backup)])
    during = len(written)
    time.sleep(0.1)
    stop.set()
    thread.join(timeout=30)
    assert errors == []
    assert result.exit_code == 0, result.output
    assert "integrity ok" in result.output
    assert len(written) > during  # the writer kept going while and after the copy was made

    # A snapshot of one moment: the writer's first k users, nothing half-written.
    copied = _tables(backup)
    emails = [row[1] for row in copied["users"] if row[1].startswith("writer-")]
    assert 20 <= len(emails) < len(written)
    assert emails == written[: len(emails)]
    connection = sqlite3.connect(backup)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()

    # The live database moves on, then the backup comes back.
    db.session.execute(User.__table__.delete().where(User.email.like("writer-%")))
    f.make_user(email="after-the-backup@example.org")
    db.session.commit()
    result = runner.invoke(args=["restore", str(backup), "--yes"])
    assert result.exit_code == 0, result.output
    live = _live_path(app)
    assert _tables(live) == copied
    assert {name: len(rows) for name, rows in _tables(live).items()} == {
        name: len(rows) for name, rows in copied.items()
    }
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == len(copied["users"])
    assert db.session.scalar(select(User).where(User.email == "after-the-backup@example.org")) is None
    connection = sqlite3.connect(live)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    # The app still works on the restored file, search index included.
    assert app.test_client().get("/search?q=respect").status_code == 200


@sqlite_only
def test_restore_asks_first_and_no_means_nothing_changes(app, tmp_path):
    runner = app.test_cli_runner()
    backup = tmp_path / "copy.sqlite3"
    assert runner.invoke(args=["backup", str(backup)]).exit_code == 0
    f.make_user(email="kept@example.org")
    result = runner.invoke(args=["restore", str(backup)], input="n\n")
    assert result.exit_code == 1
    assert "Replace everything in" in result.output
    assert db.session.scalar(select(User).where(User.email == "kept@example.org")) is not None


@sqlite_only
def test_backup_refuses_to_overwrite_and_restore_refuses_bad_files(app, tmp_path):
    runner = app.test_cli_runner()
    existing = tmp_path / "exists.sqlite3"
    existing.write_text("precious")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code == 1 and "exists already" in result.output
    assert existing.read_text() == "precious"

    f.make_user(email="still-here@example.org")
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    other_db = tmp_path / "other.sqlite3"
    sqlite3.connect(other_db).execute("CREATE TABLE t (x)").connection.close()
    for path, message in (
        (tmp_path / "missing.sqlite3", "no such file"),
        (not_sqlite, "not a SQLite database"),
        (other_db, "not a SQLite database of this app"),
    ):
        result = runner.invoke(args=["restore", str(path), "--yes"])
        assert result.exit_code == 1, path
        assert message in result.output, result.output
    assert db.session.scalar(select(User).where(User.email == "still-here@example.org")) is not None


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL")
def test_on_postgresql_backup_explains_pg_dump(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "pg_dump" in result.output and "pg_restore" in result.output
    assert not (tmp_path / "x").exists()
