"""The coprod-study command: serve, create-admin, set-role, load-catalog, init-db."""

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from coprod_study.bootstrap import prepare_database
from coprod_study.errors import DomainError

DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def served_url(host: str, port: int) -> str:
    """The address `serve` answers at, as a person would type it."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 (a comparison)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def command_as_typed() -> str:
    """How this shell reaches the command: `.venv/bin/coprod-study` when it was started
    from a virtual environment that is not on PATH, else `coprod-study`."""
    import shutil
    import sys

    started = Path(sys.argv[0])
    on_path = shutil.which("coprod-study")
    if started.name != "coprod-study" or (
        on_path and Path(on_path).resolve() == started.resolve()
    ):
        return "coprod-study"
    try:
        return str(started.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(started)


def register(app) -> None:
    from coprod_study import cli_data

    cli_data.register(app)

    @app.cli.command("init-db")
    @click.option("--no-sample", is_flag=True, help="Do not load the sample catalog.")
    @with_appcontext
    def init_db(no_sample):
        """Create or migrate the database and load the sample catalog if empty."""
        prepare_database(load_sample=not no_sample)
        click.echo("Database is up to date.")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, envvar="PORT", default=5000, show_default=True)
    @click.option("--threads", type=int, default=8, show_default=True)
    @with_appcontext
    def serve(host, port, threads):
        """Serve the app with waitress (a production WSGI server)."""
        import waitress

        prepare_database()
        url = served_url(host, port)
        if not os.environ.get("COPROD_BASE_URL") and current_app.config["BASE_URL"] == (
            DEFAULT_BASE_URL
        ):
            # Links in e-mails, feeds and calendars point where the site is served.
            current_app.config["BASE_URL"] = url.rstrip("/")
        click.echo(f"{current_app.config['SITE_NAME']} is running at {url}")
        if not is_loopback(host):
            click.echo(
                f"Warning: plain HTTP on {host} can be read by anyone on the network; put "
                "HTTPS in front (COPROD_PROXY_HOPS) and set COPROD_BASE_URL."
            )
        if current_app.config["BASE_URL"].rstrip("/") != url.rstrip("/"):
            click.echo(f"Links in e-mails and feeds use COPROD_BASE_URL: {current_app.config['BASE_URL']}")
        click.echo("Make the first admin in another terminal with:")
        click.echo(f"    {command_as_typed()} create-admin you@example.org")
        click.echo("Stop with Ctrl+C.")
        from coprod_study.jobs import consumer

        # The task queue's consumer runs as threads here, so one command is the whole site.
        queue = consumer.start(current_app._get_current_object(), current_app.config["QUEUE_WORKERS"])
        try:
            waitress.serve(current_app._get_current_object(), host=host, port=port, threads=threads)
        finally:
            queue.stop()

    @app.cli.command("create-admin")
    @click.argument("email")
    @click.option("--name", default=None, help="Display name (default: from the e-mail).")
    @with_appcontext
    def create_admin(email, name):
        """Create an admin account (password asked, or COPROD_ADMIN_PASSWORD)."""
        from coprod_study.account import service as accounts

        prepare_database()
        existing = accounts.find_by_email(email)
        if existing is not None:
            accounts.set_role(None, existing, "admin")
            click.echo(f"{existing.email} already had an account; it is now an admin.")
            return
        password = os.environ.get("COPROD_ADMIN_PASSWORD") or click.prompt(
            "Password", hide_input=True, confirmation_prompt=True
        )
        try:
            user = accounts.register(email, name or email.split("@")[0], password)
            accounts.set_role(None, user, "admin")
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"Created admin {user.email}. Sign in at /auth/login.")

    @app.cli.command("set-role")
    @click.argument("email")
    @click.argument("role")
    @with_appcontext
    def set_role(email, role):
        """Change a person's site role (learner, facilitator, educator, admin)."""
        from coprod_study.account import service as accounts

        user = accounts.find_by_email(email)
        if user is None:
            raise click.ClickException(f"No account with the e-mail {email}.")
        try:
            changed = accounts.set_role(None, user, role)
        except DomainError as error:
            raise click.ClickException(error.message) from error
        click.echo(f"{user.email} is {'now' if changed else 'already'} {role}.")

    @app.cli.command("load-catalog")
    @click.argument("path", type=click.Path(dir_okay=False))
    @with_appcontext
    def load_catalog(path):
        """Create or update episodes from a catalog file (TOML), all or nothing."""
        from coprod_study.catalog import service as catalog

        try:
            result = catalog.load_file(path)
        except catalog.CatalogError as error:
            for problem in error.problems:
                click.echo(problem, err=True)
            raise click.ClickException(
                f"Nothing was loaded: {len(error.problems)} problem(s)."
            ) from error
        click.echo(
            f"Catalog loaded: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )

    @app.cli.command("send-digests")
    @with_appcontext
    def send_digests():
        """E-mail people their notifications per their setting (run from cron)."""
        from coprod_study.mail import outbox
        from coprod_study.notifications import digests

        queued = digests.send_digests()
        delivered = outbox.deliver_due()
        click.echo(
            f"Queued {queued} {'e-mail' if queued == 1 else 'e-mails'}; delivered {delivered} "
            "from the outbox."
        )

    @app.cli.command("worker")
    @click.option("--workers", type=int, default=None, help="Worker threads (COPROD_QUEUE_WORKERS).")
    @with_appcontext
    def worker(workers):
        """Run task queue consumers (mail, digests, reminders) until stopped; any number of hosts."""
        from coprod_study.jobs import consumer

        app = current_app._get_current_object()
        workers = workers or app.config["QUEUE_WORKERS"]
        click.echo(f"Consuming the task queue with {workers} worker thread(s); stop with Ctrl+C.")
        consumer.run_until_stopped(app, workers)

    @app.cli.command("send-mail")
    @with_appcontext
    def send_mail():
        """Deliver every message in the outbox that is due, now, from this process."""
        from coprod_study.mail import outbox

        delivered = outbox.deliver_due()
        click.echo(f"Delivered {delivered} {'e-mail' if delivered == 1 else 'e-mails'}.")

    @app.cli.command("mail-in")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, default=8025, show_default=True)
    @click.option("--stdin", "from_stdin", is_flag=True, help="Read one message from standard input.")
    @with_appcontext
    def mail_in(host, port, from_stdin):
        """Take replies by e-mail: an SMTP server, or one message piped from the MTA."""
        import sys

        from coprod_study.mail import inbound, server

        app = current_app._get_current_object()
        if from_stdin:
            result = inbound.receive(sys.stdin.buffer.read(), recipients=None)
            if not result.accepted:
                click.echo(result.reason, err=True)
                # 67 (EX_NOUSER) makes the MTA bounce with our reason.
                sys.exit(67)
            click.echo(result.reason)
            return
        click.echo(f"Taking replies by e-mail at smtp://{host}:{port}; stop with Ctrl+C.")
        server.serve_forever(app, host, port)

    @app.cli.command("reindex")
    @with_appcontext
    def reindex():
        """Rebuild the full-text search index from the content."""
        from coprod_study.search import service as search

        total = search.reindex()
        click.echo(f"Indexed {total} documents.")

    @app.cli.command("list-users")
    @with_appcontext
    def list_users():
        """Print every account with its role."""
        from coprod_study.extensions import db
        from coprod_study.models import User

        for user in db.session.scalars(select(User).order_by(User.id)):
            click.echo(f"{user.id}\t{user.role}\t{user.email}\t{user.display_name}")

    @app.cli.command("send-reminders")
    @with_appcontext
    def send_reminders():
        """Remind learners 48 hours before a due date (once each; safe to run often)."""
        from coprod_study.courses import reminders
        from coprod_study.mail import outbox

        result = reminders.send_reminders()
        outbox.deliver_due()
        click.echo(
            f"Reminded {result.notified} learner(s) in the app; "
            f"{result.emailed} e-mail(s) queued."
        )

    @app.cli.command("import-feed")
    @click.argument("source")
    @with_appcontext
    def import_feed(source):
        """Create or update episodes from the podcast's RSS feed (a URL or a file), all or nothing."""
        from coprod_study.catalog import feed_import as feeds

        try:
            result = feeds.import_feed(source)
        except feeds.FeedError as error:
            for problem in error.problems:
                click.echo(problem, err=True)
            raise click.ClickException("Nothing was imported.") from error
        except DomainError as error:
            raise click.ClickException(f"Nothing was imported: {error.message}") from error
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
        verdict = "Feed imported" if result.changed else "Nothing changed"
        click.echo(f"{verdict}: {result.summary()}")


def _create_app():
    from coprod_study import create_app

    return create_app()


main = FlaskGroup(
    create_app=_create_app,
    add_default_commands=True,
    add_version_option=False,
    help="The Coproduction Study Companion.",
)
