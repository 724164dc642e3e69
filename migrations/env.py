"""Alembic environment: runs migrations on the Flask app's database connection."""

from alembic import context
from flask import current_app

from coprod_study.database import is_modelled
from coprod_study.models.base import UTCDateTime

db = current_app.extensions["migrate"].db
metadata = db.metadata


def render_item(type_, obj, autogen_context):
    # Migrations must not import the app: our UTC wrapper is a plain DateTime
    # in the database.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def run_migrations_offline() -> None:
    context.configure(
        url=str(db.engine.url).replace("%", "%%"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=True,
            render_item=render_item,
            compare_type=True,
            include_object=is_modelled,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
