"""Prometheus metrics: requests, statements per request, cache lookups, the queue and the outbox.

Counted in each process as it serves (prometheus_client). Under gunicorn every
worker counts its own; with PROMETHEUS_MULTIPROC_DIR set (in the environment
before the workers start, emptied at each start; see ops.gunicorn_hooks) they
write their figures to files there and /metrics adds all workers up. The
queue's depth and the outbox's counts are read at scrape time from where they
live (huey's storage, the database), so they are the same whichever worker or
host answers.

/metrics answers 404 unless METRICS_TOKEN is set, and 401 without
`Authorization: Bearer <METRICS_TOKEN>`.
"""

import hmac
import logging
import os

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)

REQUESTS = Counter(
    "coprod_http_requests_total", "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "coprod_http_request_duration_seconds",
    "Time from the app's first hook to the response, by endpoint, method and status.",
    ["endpoint", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
STATEMENTS = Histogram(
    "coprod_db_statements_per_request", "SQL statements one request ran, by endpoint.",
    ["endpoint"], buckets=(1, 2, 4, 6, 8, 10, 15, 20, 30, 50, 100),
)
CACHE_LOOKUPS = Counter(
    "coprod_cache_lookups_total",
    "Lookups in the kept pages ('page') and rendered posts ('fragment'), by result.",
    ["cache", "result"],
)
TASK_FAILURES = Counter(
    "coprod_task_failures_total", "Task runs that raised, by task (counted by the consumer).",
    ["task"],
)
TASKS_RUN = Counter(
    "coprod_tasks_completed_total", "Task runs that finished, by task (counted by the consumer).",
    ["task"],
)


def cache_lookup(cache: str, hit: bool) -> None:
    CACHE_LOOKUPS.labels(cache, "hit" if hit else "miss").inc()


def watch_queue(huey) -> None:
    """Count the task runs of `huey`'s consumers (huey's signals fire in the consumer)."""
    from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR

    @huey.signal(SIGNAL_ERROR)
    def _failed(signal, task, exc=None):
        TASK_FAILURES.labels(task.name).inc()

    @huey.signal(SIGNAL_COMPLETE)
    def _completed(signal, task):
        TASKS_RUN.labels(task.name).inc()


class SharedStateCollector:
    """Figures read at scrape time from the queue's storage and the database."""

    def __init__(self, app):
        self.app = app

    def collect(self):
        from coprod_study.extensions import db
        from coprod_study.jobs import jobs_for
        from coprod_study.mail import outbox

        depth = GaugeMetricFamily(
            "coprod_task_queue_depth", "Tasks waiting in the queue, by kind.", labels=["kind"]
        )
        up = GaugeMetricFamily("coprod_task_queue_up", "1 when the queue's storage answered.")
        try:
            huey = jobs_for(self.app).huey
            depth.add_metric(["pending"], huey.pending_count())
            depth.add_metric(["scheduled"], huey.scheduled_count())
            up.add_metric([], 1)
        except Exception:  # an unreachable Redis is what the figure is there to show
            log.exception("Could not read the task queue's depth")
            up.add_metric([], 0)
        yield depth
        yield up
        mail = GaugeMetricFamily(
            "coprod_mail_messages", "Messages in the outbox, by status (sent, failed, queued, …).",
            labels=["status"],
        )
        try:
            for status, count in outbox.counts().items():
                mail.add_metric([status], count)
        except Exception:
            log.exception("Could not count the outbox")
            db.session.rollback()
        yield mail


def _process_registry():
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)
    return registry


def exposition(app) -> bytes:
    """The text Prometheus scrapes: this process's (or all workers') counts, then the
    shared figures."""
    shared = CollectorRegistry(auto_describe=False)
    shared.register(SharedStateCollector(app))
    return generate_latest(_process_registry()) + generate_latest(shared)


def _authorized() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(),
                                                              token.encode())


@bp.route("/metrics")
def metrics():
    if not _authorized():
        return Response(
            "A bearer token is needed.\n", status=401, mimetype="text/plain",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(exposition(current_app), headers={"Content-Type": CONTENT_TYPE_LATEST,
                                                      "Cache-Control": "no-store"})
