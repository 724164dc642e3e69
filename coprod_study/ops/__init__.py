"""Operations: metrics, request logs with ids, and the last security headers, hooked into every request."""

import functools
import time

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from coprod_study.ops import headers, metrics, request_log

_STATEMENTS = "ops_statements"


@functools.cache
def _count_statements_once() -> None:
    @event.listens_for(Engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        if has_request_context():
            setattr(g, _STATEMENTS, g.get(_STATEMENTS, 0) + 1)


def _endpoint() -> str:
    # The route's name, never the path: a scanner's thousand paths are one label.
    return request.endpoint or "unmatched"


def init_app(app: Flask) -> None:
    _count_statements_once()
    request_log.configure(app)
    app.register_blueprint(metrics.bp)
    from coprod_study.jobs import jobs_for

    jobs_for(app).when_made(metrics.watch_queue)

    def start():
        # Reset: tests run many requests inside one app context, which shares `g`.
        for name in (_STATEMENTS, "request_id", headers.ALLOWANCES):
            g.pop(name, None)
        g.ops_started = time.perf_counter()
        request_log.request_id()

    # First of all the hooks, so the duration covers the others (sessions, sign-in).
    app.before_request_funcs.setdefault(None, []).insert(0, start)

    @app.after_request
    def finish(response):
        started = g.get("ops_started")
        seconds = time.perf_counter() - started if started is not None else 0.0
        statements = g.get(_STATEMENTS, 0)
        endpoint = _endpoint()
        status = str(response.status_code)
        metrics.REQUESTS.labels(endpoint, request.method, status).inc()
        metrics.LATENCY.labels(endpoint, request.method, status).observe(seconds)
        metrics.STATEMENTS.labels(endpoint).observe(statements)
        response.headers[request_log.HEADER] = request_log.request_id()
        headers.add_headers(response)
        if app.config.get("REQUEST_LOG"):
            request_log.write(response, endpoint, seconds, statements)
        return response
