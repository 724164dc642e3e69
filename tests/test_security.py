"""Security baseline: headers, CSRF on every POST, database settings, migrations."""

import re
import tempfile
import threading

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, inspect, select, text

from coprod_study import MIGRATIONS_DIR, create_app
from coprod_study.extensions import db
from coprod_study.models import AuditEntry, ListeningProgress, User
from tests.conftest import POSTGRES_URL, login

PAGES = ["/", "/episodes", "/auth/login"]


def _post_rules() -> list[str]:
    """Every URL rule that accepts POST, read from a throwaway app at collection time."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "collect",
            "INSTANCE_PATH": tempfile.mkdtemp(prefix="coprod-rules-"),
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
        }
    )
    return sorted(rule.rule for rule in app.url_map.iter_rules() if "POST" in rule.methods)


POST_RULES = _post_rules()


def _fill(app, rule_text: str) -> str:
    """The rule with each variable replaced by a dummy value of the right kind."""
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text)
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        values[name] = 1 if kind in {"IntegerConverter", "FloatConverter"} else "dummy"
    path = rule_text
    for name, value in values.items():
        path = re.sub(rf"<(?:[^:<>]+:)?{name}>", str(value), path)
    return path


@pytest.mark.parametrize("path", PAGES)
def test_security_headers(client, sample_catalog, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
        "strict-origin",
    }


@pytest.mark.parametrize("path", PAGES)
def test_pages_have_no_inline_script(client, sample_catalog, path):
    page = client.get(path).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\son\w+=", page)


def test_error_pages_carry_the_headers_too(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_signed_in_pages_are_not_cached(client, make_user, sample_catalog):
    assert "no-store" not in client.get("/episodes").headers.get("Cache-Control", "")
    login(client, make_user())
    for path in ("/account", "/episodes"):
        response = client.get(path)
        assert "no-store" in response.headers["Cache-Control"]
        assert "Cookie" in response.headers.get("Vary", "")


def test_there_are_post_routes_to_check():
    for expected in (
        "/auth/login",
        "/auth/logout",
        "/auth/register",
        "/account",
        "/admin/users/<int:user_id>/role",
        "/episodes/<slug>/listened",
    ):
        assert expected in POST_RULES


# POST routes that are deliberately exempt from CSRF, each with the reason.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST without a session; the
    # signed token in the URL is the proof.
    "/email/unsubscribe/<token>",
}
# The JSON API is the one blueprint exempt from CSRF: it authenticates by a
# bearer token that browsers never send by themselves and ignores session
# cookies (test_api_writes_ignore_the_session_cookie below).
CSRF_EXEMPT_BLUEPRINTS = {"api"}
API_PREFIX = "/api/v1/"
API_WRITE_RULES = sorted(
    rule for rule in POST_RULES if rule.startswith(API_PREFIX)
)


def _exempt_views(app) -> set[str]:
    from coprod_study.extensions import csrf

    names = {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints}
    assert names == CSRF_EXEMPT_BLUEPRINTS, (
        "only the API blueprint may be exempt from CSRF as a whole"
    )
    return set(csrf._exempt_views)


def _view_location(app, rule_text: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.rule == rule_text)
    view = app.view_functions[rule.endpoint]
    return f"{view.__module__}.{view.__name__}"


def test_only_the_listed_routes_are_exempt_from_csrf(app):
    exempt_rules = {rule for rule in POST_RULES if _view_location(app, rule) in _exempt_views(app)}
    assert exempt_rules == CSRF_EXEMPT & set(POST_RULES)
    # Every route of the exempt blueprint sits under the API prefix, and only there.
    for rule in app.url_map.iter_rules():
        in_api = rule.endpoint.split(".")[0] in CSRF_EXEMPT_BLUEPRINTS
        assert in_api == rule.rule.startswith(API_PREFIX), rule.rule


@pytest.mark.parametrize(
    "rule",
    [rule for rule in POST_RULES if rule not in CSRF_EXEMPT and not rule.startswith(API_PREFIX)],
)
@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "admin"])
def test_every_post_route_requires_a_csrf_token(app, client, make_user, rule, signed_in):
    if signed_in:
        login(client, make_user(role="admin"))
    users = db.session.scalar(select(func.count()).select_from(User))
    path = _fill(app, rule)
    response = client.post(path, data={"anything": "x", "role": "admin", "listened": "1"})
    assert response.status_code == 400, (path, response.status_code)
    assert "This form has expired" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0
    assert db.session.scalar(select(func.count()).select_from(ListeningProgress)) == 0


@pytest.mark.parametrize("rule", sorted(CSRF_EXEMPT & set(POST_RULES)))
def test_csrf_exempt_routes_refuse_a_bad_token(app, client, make_user, rule):
    user = make_user()
    db.session.commit()
    response = client.post(_fill(app, rule), data={"anything": "x"})
    assert response.status_code in {400, 404}
    db.session.expire_all()
    assert db.session.get(User, user.id).email_preference == "daily"


def _api_write_rules(app) -> list[tuple[str, str]]:
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(API_PREFIX)
        for method in rule.methods - {"GET", "HEAD", "OPTIONS"}
    )


def test_there_are_api_write_routes_to_check(app):
    assert API_WRITE_RULES
    assert any(method == "PATCH" for _, method in _api_write_rules(app))


def test_api_writes_ignore_the_session_cookie(app, client, make_user):
    """A signed-in browser session (with its CSRF token even) never authorizes an API write."""
    from coprod_study.models import Answer, Notification, Post, Reply
    from tests.conftest import csrf_token

    login(client, make_user(role="admin"))
    token = csrf_token(client)
    for rule, method in _api_write_rules(app):
        path = _fill(app, rule)
        response = client.open(
            path,
            method=method,
            json={"body": "written through a cookie"},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for model in (Answer, Reply, Post):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0
    assert db.session.scalar(
        select(func.count()).select_from(Notification).where(Notification.read_at.is_not(None))
    ) == 0


def test_a_token_from_another_session_is_refused(app, make_user):
    user = make_user()
    one, two = app.test_client(), app.test_client()
    page = one.get("/auth/login").get_data(as_text=True)
    foreign = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    two.get("/auth/login")
    response = two.post(
        "/auth/login",
        data={"email": user.email, "password": "a long test passphrase", "csrf_token": foreign},
    )
    assert response.status_code == 400
    assert two.get("/account").status_code == 302


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
