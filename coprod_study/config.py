"""Configuration: defaults, then instance/config.py, then environment variables."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

# Environment variable -> config key. Documented in README.md.
ENVIRONMENT = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "SECRET_KEY": "SECRET_KEY",
    "REDIS_URL": "REDIS_URL",
    "COPROD_SITE_NAME": "SITE_NAME",
    "COPROD_BASE_URL": "BASE_URL",
    "COPROD_GROUP_CREATION_ROLE": "GROUP_CREATION_ROLE",
    "SMTP_HOST": "SMTP_HOST",
    "SMTP_PORT": "SMTP_PORT",
    "SMTP_USERNAME": "SMTP_USERNAME",
    "SMTP_PASSWORD": "SMTP_PASSWORD",
    "SMTP_STARTTLS": "SMTP_STARTTLS",
    "MAIL_FROM": "MAIL_FROM",
    "COPROD_SECURE_COOKIES": "SESSION_COOKIE_SECURE",
    "COPROD_PROXY_HOPS": "PROXY_HOPS",
    "COPROD_FLAG_HIDE_THRESHOLD": "FLAG_HIDE_THRESHOLD",
    "COPROD_FRAGMENT_CACHE_MB": "FRAGMENT_CACHE_MB",
    "COPROD_PAGE_CACHE_MB": "PAGE_CACHE_MB",
    "COPROD_PAGE_CACHE_SECONDS": "PAGE_CACHE_SECONDS",
    "COPROD_POST_LIMIT": "POST_LIMIT",
    "COPROD_LOGIN_FAILURE_LIMIT": "LOGIN_FAILURE_LIMIT",
    "COPROD_LTI_FAILURE_LIMIT": "LTI_FAILURE_LIMIT",
    "COPROD_API_RATE_LIMIT": "API_RATE_LIMIT",
    "COPROD_FETCH_ALLOW_PRIVATE": "FETCH_ALLOW_PRIVATE",
    "COPROD_FEED_DIMENSION": "FEED_DIMENSION",
    "SMTP_TIMEOUT": "SMTP_TIMEOUT",
    "COPROD_OUTBOX_RETRY_SECONDS": "OUTBOX_RETRY_SECONDS",
    "COPROD_OUTBOX_MAX_ATTEMPTS": "OUTBOX_MAX_ATTEMPTS",
    "COPROD_OUTBOX_LEASE_SECONDS": "OUTBOX_LEASE_SECONDS",
    "COPROD_QUEUE_WORKERS": "QUEUE_WORKERS",
    "COPROD_QUEUE_HEARTBEAT_SECONDS": "QUEUE_HEARTBEAT_SECONDS",
    "COPROD_REPLY_DOMAIN": "REPLY_DOMAIN",
    "METRICS_TOKEN": "METRICS_TOKEN",
    "COPROD_REQUEST_LOG": "REQUEST_LOG",
    "COPROD_HSTS_SECONDS": "HSTS_SECONDS",
    "COPROD_DATA_VERSIONS": "DATA_VERSIONS",
    "COPROD_SHARED_CACHE": "SHARED_CACHE",
}

BOOLEAN_KEYS = {"SMTP_STARTTLS", "SESSION_COOKIE_SECURE", "FETCH_ALLOW_PRIVATE", "REQUEST_LOG",
                "SHARED_CACHE"}
INTEGER_KEYS = {
    "SMTP_PORT", "PROXY_HOPS", "FLAG_HIDE_THRESHOLD", "FRAGMENT_CACHE_MB", "PAGE_CACHE_MB",
    "PAGE_CACHE_SECONDS", "SMTP_TIMEOUT", "OUTBOX_RETRY_SECONDS", "OUTBOX_MAX_ATTEMPTS",
    "OUTBOX_LEASE_SECONDS", "QUEUE_WORKERS", "QUEUE_HEARTBEAT_SECONDS", "HSTS_SECONDS",
}


def defaults(instance_path: str) -> dict:
    idle = timedelta(hours=2)
    return {
        "SITE_NAME": "Coproduction Study Companion",
        # `serve` puts the address it serves at here, unless COPROD_BASE_URL is set.
        "BASE_URL": "http://127.0.0.1:5000",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///"
        + str(Path(instance_path) / "coprod_study.sqlite3"),
        "REDIS_URL": None,
        # Who may form study groups: "learner" (everyone) or a higher site role.
        "GROUP_CREATION_ROLE": "learner",
        "SMTP_HOST": None,
        "SMTP_PORT": 587,
        "SMTP_USERNAME": None,
        "SMTP_PASSWORD": None,
        "SMTP_STARTTLS": True,
        "MAIL_FROM": "Coproduction Study Companion <no-reply@localhost>",
        "OUTBOX_DIR": str(Path(instance_path) / "outbox"),
        "SMTP_TIMEOUT": 30,
        # The outbox (coprod_study.mail.outbox): first retry after this many
        # seconds, doubling up to an hour; give up after this many attempts; a worker
        # that has held a message this long without finishing is taken to have died.
        "OUTBOX_RETRY_SECONDS": 30,
        "OUTBOX_MAX_ATTEMPTS": 8,
        "OUTBOX_LEASE_SECONDS": 120,
        # The task queue (coprod_study.jobs): SqliteHuey in this file unless REDIS_URL
        # is set; worker threads `serve` runs; how often each consumer reports in.
        "QUEUE_SQLITE_PATH": str(Path(instance_path) / "queue.sqlite3"),
        "QUEUE_IMMEDIATE": False,
        "QUEUE_WORKERS": 2,
        "QUEUE_HEARTBEAT_SECONDS": 15,
        # Reply by e-mail: notifications carry reply+<signed>@REPLY_DOMAIN when set.
        "REPLY_DOMAIN": None,
        "REPLY_MAX_AGE_DAYS": 30,
        "MAIL_IN_MAX_BYTES": 1024 * 1024,
        "PROXY_HOPS": 0,
        # Sessions: idle lifetime (refreshed by every request) and an absolute
        # cap counted from login, after which the person signs in again.
        "PERMANENT_SESSION_LIFETIME": idle,
        "SESSION_REFRESH_EACH_REQUEST": True,
        "SESSION_ABSOLUTE_LIFETIME": timedelta(days=14),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # None: Secure exactly when the request came over HTTPS (coprod_study.cookies);
        # COPROD_SECURE_COOKIES=1 forces Secure always, 0 never.
        "SESSION_COOKIE_SECURE": None,
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "LOGIN_FAILURE_LIMIT": "10/minute",
        # Refused LTI login and launch steps per address: a class behind one address
        # launches many times, but only a prober is refused again and again.
        "LTI_FAILURE_LIMIT": "30/minute",
        "POST_LIMIT": "20/minute",
        # Requests per API token (and per address for the public endpoints).
        "API_RATE_LIMIT": "120/minute",
        # Open flags from this many different members hide a post until reviewed.
        "FLAG_HIDE_THRESHOLD": 3,
        # Megabytes of rendered posts and answer pages each process keeps
        # (coprod_study.fragments); 0 keeps none.
        "FRAGMENT_CACHE_MB": 16,
        # With the shared cache (Redis), how long a rendered post is kept at most.
        "FRAGMENT_CACHE_SECONDS": 86400,
        # Megabytes of whole pages each process keeps per reader (coprod_study.page_cache),
        # and how many seconds one is served at most; 0 MB keeps none.
        "PAGE_CACHE_MB": 16,
        "PAGE_CACHE_SECONDS": 30,
        "PASSWORD_RESET_MAX_AGE": 3600,
        "PER_PAGE": 20,
        "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
        # Feed import: may fetching reach private, loopback or link-local
        # addresses? True, or a list of networks such as ["127.0.0.1/32"].
        "FETCH_ALLOW_PRIVATE": False,
        # Slug of the dimension new feed episodes go to (else "uncategorised").
        "FEED_DIMENSION": None,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Operations (coprod_study.ops): /metrics answers only to this bearer token (404
        # when unset); one JSON line per request on stderr; HSTS on HTTPS responses for
        # this many seconds (0: none, where the proxy in front sends it).
        "METRICS_TOKEN": None,
        "REQUEST_LOG": True,
        "HSTS_SECONDS": 31536000,
        "HSTS_INCLUDE_SUBDOMAINS": False,
        "HSTS_PRELOAD": False,
        # The per-table change counters (coprod_study.data_versions) that tell kept
        # pages they are stale: True (on PostgreSQL raised after each commit),
        # "in-transaction" (raised inside it, as SQLite always does), or False, only to
        # measure what they cost: it turns the kept pages off too.
        "DATA_VERSIONS": True,
        # Kept pages and rendered posts in Redis (REDIS_URL), shared by every process
        # and host, instead of in each process's memory; None: exactly when REDIS_URL is set.
        "SHARED_CACHE": None,
    }


def _coerce(key: str, value: str):
    if key == "DATA_VERSIONS" and value.strip().lower() == "in-transaction":
        return "in-transaction"
    if key in BOOLEAN_KEYS | {"DATA_VERSIONS"}:
        return value.strip().lower() in {"1", "true", "yes", "on"}
    if key in INTEGER_KEYS:
        return int(value)
    return value


def from_environment(environ=os.environ) -> dict:
    found = {}
    for name, key in ENVIRONMENT.items():
        if environ.get(name):
            found[key] = _coerce(key, environ[name])
    url = found.get("SQLALCHEMY_DATABASE_URI")
    if url and url.startswith(("postgres://", "postgresql://")):
        # psycopg 3 is the driver we ship; the bare scheme would ask for psycopg2.
        found["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://" + url.split("://", 1)[1]
    return found


def ensure_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, creating it on first start."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key
