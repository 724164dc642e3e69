"""Fixtures for the security suites: the seeded world, a signed-in client per role, table snapshots."""

import tempfile

import pytest
from sqlalchemy import select

from coprod_study import create_app
from coprod_study.extensions import db
from tests.conftest import _base_config, login
from tests.security import world as world_module

# Columns a request may change without writing anything of the person's:
# when an API token was last used (written at most once a minute by design).
VOLATILE_COLUMNS = {"api_tokens": {"last_used_at"}}


def url_rules(methods=None):
    """Every URL rule of a throwaway app, read at collection time (no database needed)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "collect",
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="coprod-rules-"),
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    rules = sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))
    if methods is None:
        return rules
    return [rule for rule in rules if rule.methods & set(methods)]


@pytest.fixture
def app_config(database_url, tmp_path):
    config = _base_config(tmp_path / "instance", database_url)
    # Rate limits have their own tests; here they would only get in the way.
    config["RATELIMIT_ENABLED"] = False
    return config


@pytest.fixture
def world(app, sample_catalog):
    return world_module.build()


@pytest.fixture
def clients(app, world):
    """A test client per role, signed in (the visitor's is not)."""
    made = {}
    for role, user in world.users.items():
        client = app.test_client()
        if user is not None:
            login(client, user)
        made[role] = client
    return made


def snapshot() -> dict:
    """Every row of every table, as plain values (what "nothing was written" compares)."""
    db.session.expire_all()
    rows = {}
    for table in db.metadata.sorted_tables:
        skip = VOLATILE_COLUMNS.get(table.name, set())
        columns = [column for column in table.columns if column.name not in skip]
        result = db.session.execute(select(*columns)).all()
        rows[table.name] = sorted((tuple(map(repr, row)) for row in result))
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
