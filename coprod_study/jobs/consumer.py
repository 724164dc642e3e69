"""Running huey consumers: threads inside `serve`, or `coprod-study worker` on its own."""

import logging
import threading

from flask import Flask

from coprod_study.jobs import jobs_for

log = logging.getLogger(__name__)


class Running:
    """A started consumer (scheduler and worker threads) and its heartbeat thread."""

    def __init__(self, app: Flask, workers: int, heartbeat_seconds: float):
        from huey.consumer import Consumer

        self.jobs = jobs_for(app)
        self.consumer = Consumer(
            self.jobs.huey, workers=workers, worker_type="thread", max_delay=1.0,
            check_worker_health=False,
        )
        self.heartbeat_seconds = heartbeat_seconds
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeats, name="queue-heartbeat", daemon=True)

    def start(self) -> "Running":
        # Not Consumer.start(): it takes over the process's signals, which belong to
        # waitress in `serve` and to `worker`'s own loop.
        self.consumer.scheduler.start()
        for _, thread in self.consumer.worker_threads:
            thread.start()
        self._beat.start()
        return self

    def _heartbeats(self) -> None:
        beat = self.jobs.task("heartbeat")
        while not self._stop.is_set():
            try:
                beat()
            except Exception:
                log.exception("Could not enqueue the heartbeat")
            self._stop.wait(self.heartbeat_seconds)

    def stop(self, timeout: float = 10.0) -> None:
        """Let running tasks finish (up to `timeout` seconds), then stop."""
        self._stop.set()
        self.consumer.shutdown_timeout = timeout
        self.consumer.stop(graceful=True)
        self._beat.join(timeout=1)


def start(app: Flask, workers: int = 2) -> Running:
    return Running(app, workers, float(app.config.get("QUEUE_HEARTBEAT_SECONDS", 15))).start()


def run_until_stopped(app: Flask, workers: int) -> None:
    """`coprod-study worker`: consume until SIGINT or SIGTERM."""
    import signal

    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    running = start(app, workers)
    try:
        done.wait()
    finally:
        running.stop()
