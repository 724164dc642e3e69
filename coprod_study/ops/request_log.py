"""One JSON line per request (id, method, endpoint, path, status, duration, statements), and X-Request-ID."""

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from flask import g, request

LOGGER_NAME = "coprod_study.requests"
HEADER = "X-Request-ID"
# An id a proxy sends is taken as it is only when it cannot break a log line or a
# header: letters, digits, '.', '_' and '-', at most 128 (a UUID, nginx's $request_id).
SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
log = logging.getLogger(LOGGER_NAME)
_FIELDS = ("request_id", "method", "endpoint", "path", "status", "duration_ms", "statements",
           "user_id", "remote_addr")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON: time, level, logger, message and the request fields."""

    def format(self, record) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, separators=(",", ":"))


class _StderrJsonHandler(logging.StreamHandler):
    pass


def configure(app) -> None:
    """Send the request lines to stderr as JSON (once per process), unless REQUEST_LOG is
    off. They do not go up to the app's own logger, whose lines are not JSON."""
    log.setLevel(logging.INFO)
    log.propagate = False
    if app.config.get("REQUEST_LOG") and not any(
        isinstance(handler, _StderrJsonHandler) for handler in log.handlers
    ):
        handler = _StderrJsonHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        log.addHandler(handler)


def request_id() -> str:
    """This request's id: the incoming X-Request-ID when it is a safe token, else a new one."""
    if "request_id" not in g:
        sent = request.headers.get(HEADER, "")
        g.request_id = sent if SAFE_ID.fullmatch(sent) else uuid.uuid4().hex
    return g.request_id


def write(response, endpoint: str, seconds: float, statements: int) -> None:
    # Only a person the request already loaded: loading one to log it would cost a query.
    user = g.get("_login_user")
    user_id = user.id if getattr(user, "is_authenticated", False) else None
    log.info("request", extra={
        "request_id": request_id(),
        "method": request.method,
        "endpoint": endpoint,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 2),
        "statements": statements,
        "user_id": user_id,
        "remote_addr": request.remote_addr,
    })
