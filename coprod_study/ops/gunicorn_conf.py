"""Gunicorn settings for metrics across workers: `gunicorn -c python:coprod_study.ops.gunicorn_conf ...`.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its counts to files in
that folder and /metrics adds them up (coprod_study.ops.metrics). The folder
must start empty, or figures of an earlier run would be added in: the master
empties it before it starts any worker. When a worker exits, its files stay
(its requests were served) and it is marked dead for the gauges that count
live processes only.
"""

import os
from pathlib import Path


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
