"""Commands for keeping data: export-catalog, backup and restore."""

import click
from flask.cli import with_appcontext

from coprod_study.errors import DomainError


def register(app) -> None:
    @app.cli.command("export-catalog")
    @click.argument("path", type=click.Path(dir_okay=False))
    @with_appcontext
    def export_catalog(path):
        """Write the catalog to a catalog file (TOML), transcripts into transcripts/ beside it."""
        from coprod_study.catalog import export as catalog_export

        result = catalog_export.export_catalog(path)
        click.echo(
            f"Wrote {result.episodes} episode(s) to {path}"
            + (f" and {result.transcripts} transcript file(s) beside it." if result.transcripts
               else ".")
        )

    @app.cli.command("backup")
    @click.argument("path", type=click.Path(dir_okay=False))
    @with_appcontext
    def backup(path):
        """Copy the SQLite database to PATH while the app runs (PostgreSQL: use pg_dump)."""
        from coprod_study.admin import backup as backups

        try:
            copied = backups.backup(path)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"Backed up to {copied.path} ({copied.pages} pages, integrity {copied.integrity}).")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    @with_appcontext
    def restore(path, yes):
        """Replace the database with a backup made by `backup` (stop the app first if you can)."""
        from coprod_study.admin import backup as backups
        from coprod_study.bootstrap import prepare_database

        try:
            backups.check_backup(path)
            live = backups.sqlite_path()
            if live is None:
                raise DomainError(backups.PG_DUMP_ADVICE)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        if not yes:
            click.confirm(
                f"Replace everything in {live} with the backup {path}? "
                "Changes since the backup are lost",
                abort=True,
            )
        try:
            copied = backups.restore(path)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        # A backup from an older version gets the newer migrations.
        prepare_database(load_sample=False)
        click.echo(f"Restored {path} into {copied.path} (integrity {copied.integrity}).")
