"""gunicorn settings: load the app in the master, warm it, fork the workers; metrics across them.

    gunicorn -c python:coprod_study.gunicorn_conf -w 4 -b 0.0.0.0:8000 'coprod_study:create_app()'

Any other setting can be given on the command line as usual. See
coprod_study.serving for why the app loads before the fork.

With PROMETHEUS_MULTIPROC_DIR set, each worker writes its counts to files in
that folder and /metrics adds them up (coprod_study.ops.metrics). The folder
must start empty, or figures of an earlier run would be added in: the master
empties it before it starts any worker. When a worker exits, its files stay
(its requests were served) and it is marked dead for the gauges that count
live processes only.
"""

import os
from pathlib import Path

preload_app = True


def on_starting(server):
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()


def when_ready(server):
    from coprod_study import serving

    # With preload_app the app is already loaded here, before any worker is forked.
    serving.warm(server.app.wsgi())


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
