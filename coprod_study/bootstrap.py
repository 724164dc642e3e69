"""Bringing a database up to date: migrations, then the sample catalog (init-db, serve, restore)."""

import click


def prepare_database(load_sample: bool = True) -> None:
    """Apply migrations, then load the sample catalog into an empty catalog.

    Ends with no transaction open: `serve` keeps this app context for as long as it
    runs, and on SQLite the check for an empty catalog (in a transaction begun
    IMMEDIATE, as outside a request every one is) would hold the write lock against
    every request.
    """
    from flask_migrate import upgrade

    from coprod_study import MIGRATIONS_DIR
    from coprod_study.catalog import service as catalog
    from coprod_study.extensions import db

    upgrade(directory=str(MIGRATIONS_DIR))
    if load_sample:
        result = catalog.load_sample_if_empty()
        if result:
            click.echo(f"Loaded the sample catalog ({result.created} episodes).")
    # Commit, not remove: a command that goes on (create-admin) keeps its session.
    db.session.commit()
