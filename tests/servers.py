"""The app as it runs in production, for tests that need real processes: an instance
folder, `coprod-study init-db`, gunicorn on a free port, Redis, private databases."""

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

SECRET_KEY = "server-test-secret-key-not-for-production"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
REDIS_HOST = "redis://127.0.0.1:6379"
# Databases 8 to 15 of the local Redis; each test locks one (several runs may share Redis).
REDIS_DATABASES = range(8, 16)


def require_service(message: str):
    """A missing service fails under COPROD_REQUIRE_SERVICES=1 (CI) and skips elsewhere."""
    if os.environ.get("COPROD_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("coprod-study")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from coprod_study.cli import main; main()"]


def environment(instance: Path, database_url: str | None = None, **settings) -> dict:
    """The environment of an app server: the instance, the database, the default cookies
    (plain HTTP gets cookies without Secure, coprod_study.cookies)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COPROD_", "FLASK_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        COPROD_INSTANCE_PATH=str(instance),
        SECRET_KEY=SECRET_KEY,
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update({name: str(value) for name, value in settings.items()})
    return env


def cli(env: dict, *arguments: str, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run `coprod-study <arguments>`; raise with its output if it fails."""
    result = subprocess.run(
        [*cli_command(), *arguments], env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"coprod-study {' '.join(arguments)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn -w N 'coprod_study:create_app()'` with an access log that names the worker."""

    def __init__(self, env: dict, folder: Path, workers: int = 2, name: str = "gunicorn",
                 options: tuple = ()):
        self.env = env
        self.workers = workers
        # More gunicorn options, e.g. ("--worker-class", "gthread", "--threads", "16").
        self.options = tuple(options)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = folder / f"{name}-access.log"
        self.error_log = folder / f"{name}-error.log"
        # What the app itself logs (tracebacks of 500s) goes to stderr.
        self.output = folder / f"{name}-output.log"

        self.process = None

    def start(self, timeout: float = 60) -> "Gunicorn":
        self._output = self.output.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                sys.executable, "-m", "gunicorn",
                "--workers", str(self.workers),
                *self.options,
                "--bind", f"127.0.0.1:{self.port}",
                "--timeout", "120",
                "--graceful-timeout", "5",
                "--access-logfile", str(self.access_log),
                # worker pid, method, path, status
                "--access-logformat", "%(p)s %(m)s %(U)s %(s)s",
                "--error-logfile", str(self.error_log),
                # No control socket: several servers may run at once, and none needs one.
                "--no-control-socket",
                "coprod_study:create_app()",
            ],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._output,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{self.error_log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=10).status_code == 200:
                    if len(self.worker_pids()) >= self.workers:
                        return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError(f"gunicorn did not start:\n{self.error_log.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        """The master's child processes (its workers), read from /proc."""
        pids = []
        for task in Path(f"/proc/{self.process.pid}/task").glob("*"):
            children = task / "children"
            if children.exists():
                pids += [int(pid) for pid in children.read_text().split()]
        return sorted(set(pids))

    def served(self) -> list[tuple[int, str, str, int]]:
        """(worker pid, method, path, status) for every request in the access log."""
        rows = []
        if self.access_log.exists():
            for line in self.access_log.read_text().splitlines():
                parts = line.split()
                if parts:
                    parts[0] = parts[0].strip("<>")  # gunicorn writes the pid as <1234>
                if len(parts) == 4 and parts[0].isdigit() and parts[3].isdigit():
                    rows.append((int(parts[0]), parts[1], parts[2], int(parts[3])))
        return rows

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if getattr(self, "_output", None) is not None:
            self._output.close()
            self._output = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


@contextmanager
def redis_database():
    """A Redis database number no other test run is using, flushed; yields its URL."""
    import redis

    try:
        redis.Redis.from_url(f"{REDIS_HOST}/0", socket_timeout=2).ping()
    except redis.RedisError as error:
        require_service(f"Redis is not reachable at {REDIS_HOST} ({error})")
    for number in REDIS_DATABASES:
        lock = open(f"/tmp/coprod-test-redis-{number}.lock", "w")  # noqa: SIM115, S108
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        url = f"{REDIS_HOST}/{number}"
        client = redis.Redis.from_url(url)
        client.flushdb()
        try:
            yield url
        finally:
            client.flushdb()
            client.close()
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()
        return
    pytest.fail("every Redis database from 8 to 15 is in use by other test runs")


def flush_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def signed_in_session(base: str, email: str, password: str) -> requests.Session:
    """A requests session signed in through the login form."""
    session = requests.Session()
    page = session.get(base + "/auth/login", timeout=30)
    token = CSRF_META.search(page.text).group(1)
    response = session.post(
        base + "/auth/login",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, (response.status_code, response.text[:500])
    return session


def csrf_of(session: requests.Session, base: str) -> str:
    page = session.get(base + "/contact/sent", timeout=30)
    return CSRF_META.search(page.text).group(1)
