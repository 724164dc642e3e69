"""The task queue (huey): SqliteHuey in instance/ by default, RedisHuey with REDIS_URL."""

import functools
import logging
import threading
import time
from pathlib import Path

from flask import Flask
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session

from coprod_study.jobs.handle import EXTENSION, jobs_for
from coprod_study.mail.outgoing import PENDING_KEY

log = logging.getLogger(__name__)
HEARTBEAT_KEY = "consumer-heartbeat"


class Jobs:
    """One app's queue and its tasks, made on first use (most requests never need them)."""

    def __init__(self, app: Flask):
        self.app = app
        self._huey = None
        self._lock = threading.Lock()
        self.tasks: dict = {}

    @property
    def huey(self):
        if self._huey is None:
            with self._lock:
                if self._huey is None:
                    self._huey = self._make()
        return self._huey

    def _make(self):
        config = self.app.config
        if config.get("QUEUE_IMMEDIATE"):
            # Unit tests of task bodies only: each task runs when it is enqueued.
            huey = MemoryHuey("coprod-study", immediate=True)
        elif config.get("REDIS_URL"):
            huey = RedisHuey("coprod-study", url=config["REDIS_URL"], results=False)
        else:
            path = config.get("QUEUE_SQLITE_PATH") or str(
                Path(self.app.instance_path) / "queue.sqlite3"
            )
            huey = SqliteHuey("coprod-study", filename=path, results=False)
        from coprod_study.jobs import tasks

        self.tasks = tasks.register(huey, self.in_app)
        return huey

    def in_app(self, function):
        """Run a task body in an app context of its own, with a fresh session."""
        app = self.app

        @functools.wraps(function)
        def run(*args, **kwargs):
            from coprod_study.extensions import db

            with app.app_context():
                try:
                    return function(*args, **kwargs)
                finally:
                    db.session.remove()

        return run

    def task(self, name: str):
        self.huey  # noqa: B018 (registers the tasks)
        return self.tasks[name]

    def enqueue_delivery(self, message_ids) -> None:
        deliver = self.task("deliver_mail")
        for message_id in message_ids:
            try:
                deliver(message_id)
            except Exception:
                # The row is in the outbox; the next sweep enqueues it.
                log.exception("Could not enqueue mail %s; the sweep will", message_id)

    def last_heartbeat(self) -> float | None:
        try:
            value = self.huey.get(HEARTBEAT_KEY, peek=True)
        except Exception:
            log.exception("Could not read the queue's heartbeat")
            return None
        return float(value) if value is not None else None

    def beat(self) -> None:
        self.huey.put(HEARTBEAT_KEY, time.time())


def queue_health(now: float | None = None) -> dict:
    """For /healthz: "ok" when a consumer ran its heartbeat within the last minute."""
    beat = jobs_for().last_heartbeat()
    if beat is None:
        return {"status": "no consumer seen", "last_seen_seconds": None}
    age = max(0.0, (now or time.time()) - beat)
    return {"status": "ok" if age <= 60 else "stale", "last_seen_seconds": round(age, 1)}


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = Jobs(app)
    _listen_once()


@functools.cache
def _listen_once() -> None:
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_rollback", _after_rollback)


def _after_commit(session) -> None:
    ids = session.info.pop(PENDING_KEY, None)
    if not ids:
        return
    try:
        jobs = jobs_for()
    except (RuntimeError, KeyError):
        return  # no app: the sweep finds the rows
    jobs.enqueue_delivery(ids)


def _after_rollback(session) -> None:
    session.info.pop(PENDING_KEY, None)
