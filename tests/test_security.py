"""Database safety: SQLite settings, no lost writes, migrations (headers and CSRF: tests/security/)."""

import os
import threading

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from coprod_study import MIGRATIONS_DIR, create_app
from coprod_study.extensions import db
from coprod_study.models import ListeningProgress, User
from tests.conftest import POSTGRES_URL

# --- the database ----------------------------------------------------------


sqlite_only = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite connection settings")


@sqlite_only
def test_sqlite_connection_settings(app):
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0


@sqlite_only
def test_sqlite_enforces_foreign_keys(app):
    from sqlalchemy.exc import IntegrityError

    db.session.add(ListeningProgress(user_id=12345, episode_id=67890, listened=True))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@sqlite_only
def test_writes_take_the_lock_up_front_and_page_views_do_not(app, client, make_user, count_queries):
    user = make_user()
    db.session.commit()
    with count_queries() as statements:
        user.display_name = "Changed"
        db.session.commit()
    assert statements[0] == "BEGIN IMMEDIATE"
    with count_queries() as statements:
        client.get("/episodes")
    assert statements[0] == "BEGIN"


def test_concurrent_writers_lose_nothing(app):
    """Read-then-write from several connections at once: every write lands."""
    writers, rounds = 6, 8
    errors: list[Exception] = []
    start = threading.Barrier(writers)

    def work(number):
        try:
            with app.app_context():
                start.wait()
                for round_ in range(rounds):
                    db.session.scalar(select(func.count()).select_from(User))
                    db.session.add(
                        User(
                            email=f"writer{number}-{round_}@example.org",
                            display_name=f"Writer {number}",
                            password_hash="x",
                        )
                    )
                    db.session.commit()
                db.session.remove()
        except Exception as error:  # collected and asserted below
            errors.append(error)

    db.session.commit()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User)) == writers * rounds


def test_migrations_upgrade_a_fresh_sqlite_file_and_downgrade(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "fresh",
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "audit_log", "episodes", "study_questions", "alembic_version"} <= tables
        assert set(db.metadata.tables) <= tables
        downgrade(directory=str(MIGRATIONS_DIR), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as connection:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert version
        db.engine.dispose()


def test_models_match_the_migrated_schema(app):
    """Like `alembic check`: autogenerate finds nothing to add or change."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db.session.commit()
    with db.engine.connect() as connection:
        from coprod_study.database import is_modelled

        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": True, "include_object": is_modelled},
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_web_processes_do_not_load_alembic_but_the_db_commands_work(tmp_path):
    """Flask-Migrate (and Alembic under it, about 11 MB) loads only when a migration runs;
    the iCalendar, feed and subtitle libraries (about 4 MB) only where they are used."""
    import subprocess
    import sys

    env = {**os.environ, "COPROD_INSTANCE_PATH": str(tmp_path / "instance"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}", "SECRET_KEY": "cli"}
    env.pop("TEST_DATABASE_URL", None)
    script = (
        "import sys; from coprod_study import create_app; app = create_app(); "
        "app.test_client().get('/healthz'); "
        "print(*(name in sys.modules for name in "
        "('alembic', 'flask_migrate', 'icalendar', 'feedparser', 'webvtt')))"
    )
    loaded = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120, check=True)
    assert loaded.stdout.split() == ["False"] * 5
    from pathlib import Path

    command = [str(Path(sys.executable).parent / "coprod-study")]
    subprocess.run([*command, "init-db", "--no-sample"], env=env, check=True, timeout=120,
                   capture_output=True)
    current = subprocess.run([*command, "db", "current"], env=env, capture_output=True,
                             text=True, timeout=120)
    assert current.returncode == 0, current.stderr[-2000:]
    assert "(head)" in current.stdout
