"""Coproduction Study Companion: study a podcast series on coproduction of health care together."""

import functools
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = PACKAGE_DIR.parent
# In a checkout templates/, static/ and migrations/ sit beside the package;
# in an installed wheel they are packed inside it.
RESOURCE_DIR = _CHECKOUT if (_CHECKOUT / "pyproject.toml").exists() else PACKAGE_DIR
TEMPLATE_DIR = RESOURCE_DIR / "templates"
STATIC_DIR = RESOURCE_DIR / "static"
MIGRATIONS_DIR = RESOURCE_DIR / "migrations"


def create_app(config: dict | None = None) -> Flask:
    from coprod_study import config as settings

    config = dict(config or {})
    instance_path = config.pop("INSTANCE_PATH", None) or os.environ.get("COPROD_INSTANCE_PATH")
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()) if instance_path else None,
        instance_relative_config=True,
        template_folder=str(TEMPLATE_DIR),
        static_folder=str(STATIC_DIR),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings.defaults(app.instance_path))
    app.config.from_pyfile("config.py", silent=True)
    if not config.get("TESTING"):
        app.config.update(settings.from_environment())
    app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = settings.ensure_secret_key(app.instance_path)
    if app.config.get("REDIS_URL") and app.config["RATELIMIT_STORAGE_URI"] == "memory://":
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    if app.config.get("PROXY_HOPS"):
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    _init_extensions(app)
    from coprod_study import jobs

    jobs.init_app(app)
    _register_blueprints(app)

    from coprod_study import cookies, errors, i18n, ops, page_cache, security, templating

    cookies.init_app(app)
    page_cache.init_app(app)
    i18n.init_app(app)
    errors.register_error_handlers(app)
    security.init_app(app)
    templating.init_app(app)
    ops.init_app(app)

    from coprod_study import cli

    cli.register(app)
    return app


def _init_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    import coprod_study.wording  # noqa: F401  (answers keep the wording they answered)
    from coprod_study import database  # noqa: F401  (registers connection events)
    from coprod_study.database import register_migrations
    from coprod_study.extensions import csrf, db, limiter, login_manager
    from coprod_study.search import service as search  # noqa: F401  (keeps the search index in step)

    db.init_app(app)
    from coprod_study import data_versions

    if app.config["DATA_VERSIONS"]:
        with app.app_context():
            data_versions.count_writes(
                db.engine, after_commit=app.config["DATA_VERSIONS"] != "in-transaction"
            )
    register_migrations(app, db, MIGRATIONS_DIR)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Flask-Login flashes the message through localize_callback, as a plain
    # string in the reader's language (a lazy string cannot go in the session).
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    from sqlalchemy import bindparam, select

    from coprod_study.data_versions import remember_versions, versions_column
    from coprod_study.models import User
    from coprod_study.notifications.service import remember_unread_count, unread_count_column

    @functools.cache
    def _person_stmt():
        # Built once per process: building it and working out its cache key cost
        # more than running it (0.39 ms against 0.14 ms with it built).
        return select(User, unread_count_column(), versions_column()).where(
            User.id == bindparam("user_id")
        )

    @login_manager.user_loader
    def load_user(token: str):
        # The id carries the account's session version (User.get_id): a cookie
        # from before a logout or password change names an old version.
        user_id, _, version = token.partition(":")
        if not user_id.isdigit() or not version.isdigit():
            return None
        # One query for the person, their unread count, which every page's
        # navigation shows (notifications.service.unread_count reads it), and the
        # table counters that tell whether a kept page is current (page_cache).
        row = db.session.execute(_person_stmt(), {"user_id": int(user_id)}).first()
        if row is None or row[0].session_version != int(version):
            return None
        user, unread, versions = row
        remember_unread_count(user, unread)
        remember_versions(versions)
        return user


# Each feature's route modules, in the order their blueprints register. A
# feature package itself holds only its blueprint, so importing a feature's
# service (from another feature, the CLI or a task) never loads its views.
ROUTES = {
    "catalog": ("views", "discovery", "feed"),
    "auth": ("views",),
    "account": ("data", "views"),
    "admin": ("episodes", "episode_items", "feed", "inquiries", "lti", "outbox", "views"),
    "groups": ("views.groups", "views.members", "views.episodes", "views.answers", "views.replies"),
    "discussion": ("views",),
    "moderation": ("views",),
    "notifications": ("views",),
    "search": ("views",),
    "courses": (
        "views.courses",
        "views.members",
        "views.assignments",
        "views.progress",
        "views.calendar",
        "views.checkpoints",
        "views.contributions",
    ),
    "api": ("auth", "openapi", "catalog", "groups", "answers", "replies", "threads", "people"),
    "inquiries": ("views",),
    # framing and hooks are no routes: the LTI pages' frame policy, and the session
    # events that queue grades when work changes.
    "lti": ("framing", "hooks", "views"),
    "reflections": ("views",),
    "certificates": ("views",),
    "followups": ("views",),
}


def _register_blueprints(app: Flask) -> None:
    import importlib

    for feature, modules in ROUTES.items():
        for module in modules:
            importlib.import_module(f"coprod_study.{feature}.{module}")
        app.register_blueprint(importlib.import_module(f"coprod_study.{feature}").bp)
