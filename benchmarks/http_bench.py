"""HTTP benchmark: the app under gunicorn, measured with wrk against a large data set,
as many readers read it (issue #20).

One command seeds what is missing and measures each database in turn:

    python benchmarks/http_bench.py --seed --database-url sqlite \
        --database-url postgresql+psycopg://postgres@127.0.0.1/bench [--json results.json]
        [--duration 10] [--warmup 3] [--pages home,progress] [--modes one,many,off]

Without --database-url it reads --manifest (default benchmarks/.data/large.json,
written by seed_large.py). For each database:

1. Counts the SQL statements per request for each page in-process (Flask's test
   client, the second of two GETs, without BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE):
   "queries" as served (a page kept whole answers from coprod_study.page_cache),
   "built" with no page kept.
2. Makes a session cookie for each reader the manifest names (the measured group's
   500 members, the course's 300 learners and 20 educators) with the app's own
   session interface, as signing in leaves it.
3. Starts `gunicorn -w 2 -k sync -c python:coprod_study.gunicorn_conf` (the app
   loaded and warmed before the workers fork) with plain-HTTP cookies, the limits
   raised and COPROD_PAGE_CACHE_HEADER=1 (each response says X-Page-Cache: hit or
   miss), signs the benchmark's person in through the form, and for each page runs
   wrk (`-t2 -c8`, a warm-up first) through benchmarks/readers.lua: once with that
   one session ("one reader"), once with each request the next reader's session
   ("many readers"; the progress table is read by the course's educators, the
   course page by its learners, every other page by the group's members). The
   question page is measured once more, many readers, while another session edits
   a reply on it twice a second (question_20_writes).
4. Starts the app again with the page cache off (COPROD_PAGE_CACHE_MB=0) and
   measures every page with many readers.
5. Measures benchmarks/ceiling_app.py (bare Flask "ok" and a Jinja page of 200
   items) and benchmarks/floor_app.py (the libraries a worker loads, none of our
   code) under the same gunicorn, through the same script.
6. Prints a table per way of reading (req/s, p50, p99, queries, page-cache hit
   rate, share of the Jinja ceiling of the same run), the RSS, PSS and private
   memory of each server's master and workers at the end of its runs, and PASS/MISS
   for each target; with several databases, many readers side by side.

Needs wrk on the PATH and gunicorn beside this Python (or on the PATH). The exit
code is 0 even when targets are missed; it is non-zero only when something breaks
(the server does not start, sign-in fails, a page does not answer 200).
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.client import HTTPConnection, HTTPException
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_MANIFEST = HERE / ".data" / "large.json"
# seed_large.py runs the app with this instance folder, so a relative SQLite path
# in its manifest is relative to it.
SEED_INSTANCE = HERE / ".data"

WORKERS = 2
THREADS = 2
CONNECTIONS = 8
WRK_TIMEOUT = "10s"
SAMPLE_EVERY = 0.2
START_TIMEOUT = 60.0
# Sent by the sign-in and by wrk alike: Flask-Login's session protection compares
# the User-Agent with the one the session was made with.
USER_AGENT = "coprod-http-bench/1"
LOGIN_PATH = "/auth/login"
# Every page of a signed-in person has the sign-out form.
SIGNED_IN_MARK = 'action="/auth/logout"'
TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "END"}

CEILING_PAGES = {"bare Flask": "/", "Jinja 200 items": "/jinja"}
# Search with other words at every request (benchmarks/readers.lua), so that no
# result kept by a worker is ever found again: what a search costs the first time.
NEW_WORDS = "search_new_words"
NEW_WORDS_QUERIES = 20_000
READERS_SCRIPT = HERE / "readers.lua"
JINJA = "Jinja 200 items"
# The question page again while a second session of the same person edits a reply
# on it twice a second: each edit changes what the page shows, so every kept copy
# of it is built again (coprod_study.page_cache).
WRITES = "question_20_writes"
WRITES_EVERY = 0.5
# Who reads a page in the many-readers runs (the manifest's "readers"): the progress
# table is for the course's educators, the course page for its learners, every
# other page for the members of the measured group.
READERS_OF = {"progress": "course_educators", "course": "course_learners"}
DEFAULT_READERS = "group"
# The three ways each page is measured.
MANY = "many readers"
MANY_OFF = "many readers, page cache off"
ONE = "one reader (the same session at every request)"

# Targets (issue #20): many readers, the page cache on, as a share of the Jinja
# ceiling measured in the same run.
SHARE_TARGETS = {
    "home": 60.0, "catalog": 60.0, "episode": 60.0, "question_20": 40.0, "thread": 35.0,
    "group": 30.0, "question_200": 12.0, "progress": 15.0, NEW_WORDS: 15.0,
}
SEARCH_P99_MS = 100.0
MAX_QUERIES = 8
# Memory against benchmarks/floor_app.py under the same gunicorn, in the same run.
PSS_OVER_FLOOR_MIB = 20.0
WORKER_PRIVATE_OVER_FLOOR_MIB = 25.0


class BenchError(Exception):
    """Something broke; the figures would mean nothing."""


# --- Processes and memory, from /proc ------------------------------------------


def _status_kib(pid: int, key: str) -> int:
    """A `kB` line of /proc/<pid>/status (VmRSS, VmHWM); 0 when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _rollup_kib(pid: int) -> dict[str, int]:
    """The kB lines of /proc/<pid>/smaps_rollup (Rss, Pss, Private_Clean, ...); {}
    when unreadable."""
    found: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    found[parts[0].rstrip(":")] = int(parts[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return found


def _pss_kib(pid: int) -> int:
    """Proportional set size: the process's own pages plus its share of the pages it
    shares (a page three processes hold counts a third in each); 0 when unreadable."""
    return _rollup_kib(pid).get("Pss", 0)


def memory_of(pids: list[int]) -> list[dict[str, float]]:
    """RSS, PSS and private memory (pages no other process holds: what a process
    costs on its own) of each process, in MiB."""
    shown = []
    for pid in pids:
        rollup = _rollup_kib(pid)
        shown.append({
            "pid": pid,
            "rss_mib": _mib(rollup.get("Rss", _status_kib(pid, "VmRSS"))),
            "pss_mib": _mib(rollup.get("Pss", 0)),
            "private_mib": _mib(rollup.get("Private_Clean", 0) + rollup.get("Private_Dirty", 0)),
        })
    return shown


def _children(pid: int) -> list[int]:
    """Child processes of `pid`, from task/*/children or else by scanning /proc."""
    listed = list(Path(f"/proc/{pid}/task").glob("*/children"))
    if listed:
        found: list[int] = []
        for path in listed:
            try:
                found += [int(child) for child in path.read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return found
    # Kernels without CONFIG_PROC_CHILDREN: the parent is the field after "(comm)".
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            after_name = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(after_name[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _busy_connections(port: int) -> int:
    """Server-side TCP connections on `port` that are queued or being answered.

    From /proc/net/tcp: ESTABLISHED (01) and CLOSE_WAIT (08, the client has gone
    but the server has not answered and closed yet); 0 when the table is unreadable.
    """
    local = f":{port:04X}"
    busy = 0
    try:
        with open("/proc/net/tcp") as table:
            next(table, None)
            for line in table:
                fields = line.split()
                if len(fields) > 3 and fields[1].endswith(local) and fields[3] in ("01", "08"):
                    busy += 1
    except OSError:
        return 0
    return busy


def _mib(kib: int) -> float:
    return kib / 1024


# --- gunicorn ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    path = str(beside) if beside.exists() else shutil.which(name)
    if not path:
        raise BenchError(f"{name} not found (beside {sys.executable} or on the PATH)")
    return path


class Gunicorn:
    """A gunicorn master and its workers in a process group of their own."""

    def __init__(self, label: str, app: str, env: dict[str, str], log: Path,
                 chdir: Path | None = None, config: str | None = None):
        self.label = label
        self.port = free_port()
        self.log = log
        # --preload: the master imports the app before it forks, so the workers share
        # its code and data pages (copy-on-write) instead of each importing it anew.
        self.argv = [find_tool("gunicorn"), "-w", str(WORKERS), "-k", "sync", "--preload",
                     "-b", f"127.0.0.1:{self.port}"]
        if chdir is not None:
            self.argv += ["--chdir", str(chdir)]
        if config is not None:
            self.argv += ["-c", config]
        if _gunicorn_has_control_socket(self.argv[0]):
            # gunicorn >= 25.1 opens a control socket at one fixed path per user,
            # which a second gunicorn (the ceiling, or anyone else's) would fight over.
            self.argv.append("--no-control-socket")
        self.argv.append(app)
        self.env = env
        self.process: subprocess.Popen | None = None
        self.peak_rss_kib = 0
        self.peak_rss_parts: list[int] = []
        self.peak_pss_kib = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "Gunicorn":
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own fixed command line)
                self.argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        group = self.process.pid  # start_new_session: the group id is the master's pid
        try:
            os.killpg(group, signal.SIGTERM)
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def wait_ready(self, path: str, ready) -> None:
        """Poll `path` until ready(status, body) holds and all workers are up."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.label}: gunicorn exited with {self.process.returncode}"
                                 f"\n{self.log_tail()}")
            try:
                status, _location, body = Browser(self.port).get(path)
            except (OSError, HTTPException):
                status, body = 0, ""
            if ready(status, body) and len(self.workers()) >= WORKERS:
                self.sample()
                return
            time.sleep(0.2)
        raise BenchError(f"{self.label}: no answer from {path} within {START_TIMEOUT:.0f} s"
                         f"\n{self.log_tail()}")

    def workers(self) -> list[int]:
        return _children(self.process.pid) if self.process else []

    def pids(self) -> list[int]:
        return [self.process.pid, *self.workers()] if self.process else []

    def sample(self) -> int:
        """Sum of VmRSS over master and workers now, in KiB; keeps the peak."""
        pids = self.pids()
        parts = [_status_kib(pid, "VmRSS") for pid in pids]
        total = sum(parts)
        if total > self.peak_rss_kib:
            self.peak_rss_kib = total
            self.peak_rss_parts = parts
        self.peak_pss_kib = max(self.peak_pss_kib, sum(_pss_kib(pid) for pid in pids))
        return total

    def wait_idle(self, timeout: float = 120.0) -> float:
        """Wait until no connection is queued or being answered; the seconds waited.

        When wrk stops it drops its connections, but the requests already sent
        stay in the listen queue and the sync workers still answer them: without
        this wait they would eat into the next run's time.
        """
        started = time.monotonic()
        while _busy_connections(self.port) and time.monotonic() - started < timeout:
            self.sample()
            time.sleep(0.1)
        return time.monotonic() - started

    def hwm_kib(self) -> int:
        return sum(_status_kib(pid, "VmHWM") for pid in self.pids())


_control_socket_support: dict[str, bool] = {}


def _gunicorn_has_control_socket(gunicorn: str) -> bool:
    if gunicorn not in _control_socket_support:
        shown = subprocess.run(  # noqa: S603 (our own fixed command line)
            [gunicorn, "--help"], capture_output=True, text=True, check=False
        ).stdout
        _control_socket_support[gunicorn] = "--no-control-socket" in shown
    return _control_socket_support[gunicorn]


# --- Signing in over HTTP ---------------------------------------------------------


class _CsrfFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "input" and found.get("name") == "csrf_token" and self.token is None:
            self.token = found.get("value")


class Browser:
    """Just enough of a browser: one request at a time, cookies kept by name.

    Cookies are sent whatever their Secure flag, so signing in works over plain
    HTTP even if the app marks its cookies Secure.
    """

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    def request(self, method: str, path: str, form: dict[str, str] | None = None
                ) -> tuple[int, str | None, str]:
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection = HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                self._keep(header)
            return response.status, response.getheader("Location"), text
        finally:
            connection.close()

    def get(self, path: str) -> tuple[int, str | None, str]:
        return self.request("GET", path)

    def _keep(self, set_cookie: str) -> None:
        pair, _, attributes = set_cookie.partition(";")
        name, _, value = pair.strip().partition("=")
        deleted = not value or re.search(r"max-age=0\b", attributes, re.IGNORECASE)
        if deleted:
            self.cookies.pop(name, None)
        else:
            self.cookies[name] = value


def sign_in(port: int, email: str, password: str) -> Browser:
    browser = Browser(port)
    status, _location, page = browser.get(LOGIN_PATH)
    if status != 200:
        raise BenchError(f"GET {LOGIN_PATH} answered {status}")
    finder = _CsrfFinder()
    finder.feed(page)
    if not finder.token:
        raise BenchError(f"no csrf_token input on {LOGIN_PATH}")
    status, location, page = browser.request(
        "POST", LOGIN_PATH, {"email": email, "password": password, "csrf_token": finder.token}
    )
    if status not in (302, 303) or not location:
        raise BenchError(f"POST {LOGIN_PATH} answered {status}, not a redirect: sign-in failed "
                         f"(wrong manifest person or password, or the login limit?)")
    # Follow the redirect once so the "Signed in" message leaves the session:
    # otherwise every measured request would carry and show it.
    target = urlsplit(location)
    browser.get(target.path + (f"?{target.query}" if target.query else ""))
    if not browser.cookies:
        raise BenchError("signed in but got no cookies")
    return browser


def check_pages(browser: Browser, pages: dict[str, str]) -> None:
    failed = []
    for name, path in pages.items():
        status, location, _body = browser.get(path)
        if status != 200:
            where = f" -> {location}" if location else ""
            failed.append(f"{name} {path}: {status}{where}")
    if failed:
        raise BenchError("pages not answering 200 when signed in:\n  " + "\n  ".join(failed))


def make_sessions(url: str, secret_key: str, emails: list[str]) -> dict[str, str]:
    """A signed-in session cookie per person, made with the app's own session interface.

    Each is what signing in through the form leaves (coprod_study.security.start_session:
    Flask-Login's user id with the account's session version, the sign-in time, the
    session protection's hash of the loopback address and USER_AGENT) plus the CSRF
    token a page would add, so that no measured request writes the session again.
    The server must run with the same SECRET_KEY. Returns email -> Cookie header value.
    """
    from flask import session
    from flask_wtf.csrf import generate_csrf
    from sqlalchemy import select

    from coprod_study import create_app
    from coprod_study.extensions import db
    from coprod_study.models import User
    from coprod_study.security import start_session

    cookies: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": secret_key,
                          "SQLALCHEMY_DATABASE_URI": url, "SESSION_COOKIE_SECURE": False})
        serializer = app.session_interface.get_signing_serializer(app)
        name = app.config["SESSION_COOKIE_NAME"]
        with app.app_context():
            users = {user.email: user for user in db.session.scalars(
                select(User).where(User.email.in_(emails)))}
            missing = [email for email in emails if email not in users]
            if missing:
                raise BenchError(f"no accounts for {len(missing)} readers, e.g. {missing[0]}")
            for email in emails:
                with app.test_request_context(
                    "/", base_url="http://127.0.0.1", headers={"User-Agent": USER_AGENT},
                    environ_base={"REMOTE_ADDR": "127.0.0.1"},
                ):
                    start_session(users[email], remember=False)
                    generate_csrf()
                    cookies[email] = f"{name}={serializer.dumps(dict(session))}"
            db.engine.dispose()
    return cookies


def check_readers(port: int, cookies: list[str], path: str) -> None:
    """The first and last of a list of sessions each get `path` with 200, signed in."""
    for cookie in {cookies[0], cookies[-1]}:
        connection = HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            connection.request("GET", path, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        if response.status != 200 or SIGNED_IN_MARK not in body:
            raise BenchError(f"a made session got {response.status} from {path}, "
                             "or a page without the sign-out form (not signed in?)")


class Writer(threading.Thread):
    """Through a session of its own, edits one reply on a question page every `every`
    seconds until stopped (a reply of its own, posted to the first answer the first
    time: the page keeps its size from run to run); counts the edits taken."""

    def __init__(self, port: int, email: str, password: str, question_path: str, every: float):
        super().__init__(daemon=True)
        self.browser = sign_in(port, email, password)
        slug = question_path.split("/")[2]
        page = self._page(question_path)
        own = re.search(rf'href="/groups/{re.escape(slug)}/replies/(\d+)/edit"', page)
        if own is None:
            answer = re.search(r'id="answer-(\d+)"', page)
            if not answer:
                raise BenchError(f"{question_path}: no answer to reply to")
            status, _location, _page = self.browser.request(
                "POST", f"/groups/{slug}/answers/{answer.group(1)}/replies",
                {"csrf_token": self.token, "body": "Benchmark reply"},
            )
            page = self._page(question_path)
            own = re.search(rf'href="/groups/{re.escape(slug)}/replies/(\d+)/edit"', page)
            if status not in (302, 303) or own is None:
                raise BenchError(f"{question_path}: could not post a reply ({status})")
        self.path = f"/groups/{slug}/replies/{own.group(1)}/edit"
        self.every = every
        self.posted = 0
        self.refused = 0
        self._done = threading.Event()

    def _page(self, path: str) -> str:
        status, _location, page = self.browser.get(path)
        finder = _CsrfFinder()
        finder.feed(page)
        if status != 200 or not finder.token:
            raise BenchError(f"{path}: answered {status} to the writer")
        self.token = finder.token
        return page

    def run(self) -> None:
        while not self._done.wait(self.every):
            status, _location, _page = self.browser.request(
                "POST", self.path,
                {"csrf_token": self.token, "body": f"Benchmark reply, edit {self.posted + 1}"},
            )
            if status in (302, 303):
                self.posted += 1
            else:
                self.refused += 1

    def stop(self) -> None:
        self._done.set()
        self.join()


# --- wrk ------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx_3xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)
    peak_rss_mib: float = 0.0
    # X-Page-Cache answers counted by readers.lua: kept pages served, pages built.
    page_cache_hits: int = 0
    page_cache_misses: int = 0

    @property
    def hit_rate(self) -> float | None:
        """Share of the page-cache look-ups a kept page answered; None: no look-up."""
        looked = self.page_cache_hits + self.page_cache_misses
        return 100 * self.page_cache_hits / looked if looked else None

    @property
    def socket_error_total(self) -> int:
        return sum(self.socket_errors.values())

    @property
    def flagged(self) -> bool:
        return self.non_2xx_3xx > 0 or self.socket_error_total > 0


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _to_ms(number: str, unit: str) -> float:
    return float(number) * UNIT_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    if not rate:
        raise BenchError(f"could not read wrk's output:\n{output}")
    percentiles = {
        share: _to_ms(number, unit)
        for share, number, unit in re.findall(
            r"^\s*(\d+)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.MULTILINE
        )
    }
    if "50" not in percentiles or "99" not in percentiles:
        raise BenchError(f"no latency distribution in wrk's output:\n{output}")
    total = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:(.*)$", output, re.MULTILINE)
    socket_errors = (
        {kind: int(count) for kind, count in re.findall(r"(\w+) (\d+)", errors.group(1))}
        if errors else {}
    )
    kept = re.search(r"^page-cache: (\d+) (\d+) (\d+)$", output, re.MULTILINE)
    return WrkResult(
        page_cache_hits=int(kept.group(1)) if kept else 0,
        page_cache_misses=int(kept.group(2)) if kept else 0,
        requests_per_second=float(rate.group(1)),
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=int(total.group(1)) if total else 0,
        non_2xx_3xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=socket_errors,
    )


def run_wrk(server: Gunicorn, path: str, seconds: int, script_args: list[str],
            latency: bool) -> tuple[str, int]:
    """Run wrk against `path` with benchmarks/readers.lua (each request the next
    session of a list, and the next path of a list when one is given); wrk's output
    and the server's peak RSS (KiB) meanwhile."""
    argv = [find_tool("wrk"), f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s",
            "--timeout", WRK_TIMEOUT, "-s", str(READERS_SCRIPT)]
    if latency:
        argv.append("--latency")
    argv += [server.base_url + path, "--", *script_args]
    wrk = subprocess.Popen(  # noqa: S603 (our own fixed command line)
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    try:
        while wrk.poll() is None:
            peak = max(peak, server.sample())
            time.sleep(SAMPLE_EVERY)
        output = wrk.stdout.read() if wrk.stdout else ""
    finally:
        if wrk.poll() is None:
            wrk.kill()
        wrk.wait()
    if wrk.returncode != 0:
        raise BenchError(f"wrk exited with {wrk.returncode}:\n{output}")
    waited = server.wait_idle()
    if waited > 0.5:
        print(f"    ({waited:.1f} s for the requests left over by wrk to finish)",
              file=sys.stderr, flush=True)
    return output, peak


def measure(server: Gunicorn, path: str, args, cookies_file: Path,
            paths_file: Path | None = None) -> WrkResult:
    """wrk on one path with the sessions of `cookies_file` in turn, or with
    `paths_file` on a new path from it at every request (the warm-up and the
    measurement start at different places of both lists)."""
    def script(offset: int) -> list[str]:
        return [str(cookies_file), str(paths_file or "-"), str(offset), str(THREADS),
                USER_AGENT]

    if args.warmup > 0:
        run_wrk(server, path, args.warmup, script(0), latency=False)
    output, peak_kib = run_wrk(server, path, args.duration,
                               script(NEW_WORDS_QUERIES // (2 * THREADS)), latency=True)
    result = parse_wrk(output)
    result.peak_rss_mib = _mib(peak_kib)
    return result


# --- Queries per request, in-process ------------------------------------------------


def new_word_searches(count: int) -> list[str]:
    """Distinct searches shaped like "dialysis care": a less common word of the seeded
    vocabulary with one of its everyday words."""
    import random

    from seed_large import vocabulary

    words, _weights = vocabulary(random.Random(0))
    rng = random.Random(7)
    seen: set[str] = set()
    paths: list[str] = []
    while len(paths) < count:
        query = f"{rng.choice(words[40:1500])} {rng.choice(words[:20])}"
        if query not in seen:
            seen.add(query)
            paths.append("/search?" + urlencode({"q": query}))
    return paths


def _app_database_url(url: str) -> str:
    """The URL as create_app() sees it when given as DATABASE_URL."""
    from sqlalchemy.engine import make_url

    from coprod_study import config

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not os.path.isabs(parsed.database):
            parsed = parsed.set(database=str(SEED_INSTANCE / parsed.database))
            url = parsed.render_as_string(hide_password=False)
    return config.from_environment({"DATABASE_URL": url})["SQLALCHEMY_DATABASE_URI"]


def count_queries(url: str, email: str, pages: dict[str, str],
                  second: dict[str, str] | None = None, keep_pages: bool = True
                  ) -> dict[str, int]:
    """SQL statements of the second of two GETs of each page, through the test client;
    `second` names another path for that GET (a search with other words). With
    `keep_pages` false no page is kept whole: the statements that build the page."""
    from sqlalchemy import event, select

    from coprod_study import create_app
    from coprod_study.extensions import db
    from coprod_study.models import User

    statements: list[str] = []

    def record(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"TESTING": True, "INSTANCE_PATH": folder, "SECRET_KEY": "benchmark",
                          "SQLALCHEMY_DATABASE_URI": url, "SESSION_COOKIE_SECURE": False,
                          **({} if keep_pages else {"PAGE_CACHE_MB": 0})})
        # Only the look-up happens in an app context: requests made inside one would
        # share its SQLAlchemy session and hide the queries they repeat.
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == email))
            if user is None:
                raise BenchError(f"no account {email} in {url}")
            user_id = user.get_id()
            engine = db.engine
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user_id
            session["_fresh"] = True
            session["auth_at"] = int(time.time())
        event.listen(engine, "before_cursor_execute", record)
        try:
            for name, path in pages.items():
                status = client.get(path).status_code
                statements.clear()
                again = client.get((second or {}).get(name, path)).status_code
                if status != 200 or again != 200:
                    raise BenchError(f"in-process GET {path} answered {status}, then {again}")
                counts[name] = sum(
                    1 for statement in statements
                    if (statement.split(None, 1) or [""])[0].upper() not in TRANSACTION_CONTROL
                )
        finally:
            event.remove(engine, "before_cursor_execute", record)
            engine.dispose()
    return counts


# --- The report ---------------------------------------------------------------------


def cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    for key in ("model name", "Model", "Hardware", "cpu model", "cpu"):
        found = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
        if found:
            return found.group(1).strip()
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


@dataclass
class Row:
    name: str
    path: str
    result: WrkResult
    queries: int | None = None
    built_queries: int | None = None
    percent_of_jinja: float | None = None
    readers: int = 1


def _errors(result: WrkResult) -> str:
    parts = []
    if result.non_2xx_3xx:
        parts.append(f"non-2xx {result.non_2xx_3xx}")
    if result.socket_error_total:
        detail = ", ".join(f"{k} {v}" for k, v in result.socket_errors.items() if v)
        parts.append(f"socket {result.socket_error_total} ({detail})")
    return "  ".join(parts) + "  !" if parts else "0"


def print_table(title: str, rows: list[Row]) -> None:
    print(title)
    width = max([len(row.name) for row in rows] + [4])
    head = (f"{'page':<{width}}  {'readers':>7}  {'req/s':>8}  {'p50 ms':>8}  {'p99 ms':>8}  "
            f"{'queries':>7}  {'built':>5}  {'hits':>5}  {'% jinja':>7}  errors")
    print(head)
    print("-" * len(head))
    for row in rows:
        r = row.result
        queries = "-" if row.queries is None else str(row.queries)
        built = "-" if row.built_queries is None else str(row.built_queries)
        hits = "-" if r.hit_rate is None else f"{r.hit_rate:.0f} %"
        share = "-" if row.percent_of_jinja is None else f"{row.percent_of_jinja:.1f} %"
        print(f"{row.name:<{width}}  {row.readers:>7}  {r.requests_per_second:>8.1f}  "
              f"{r.p50_ms:>8.1f}  {r.p99_ms:>8.1f}  {queries:>7}  {built:>5}  {hits:>5}  "
              f"{share:>7}  {_errors(r)}")
    print()


def print_memory(memory: dict[str, list[dict]]) -> None:
    print(f"memory (MiB), gunicorn master + {WORKERS} workers (--preload), at the end of "
          "each server's runs:")
    head = f"{'server':<34}  {'process':<8}  {'RSS':>7}  {'PSS':>7}  {'private':>7}"
    print(head)
    print("-" * len(head))
    for server, processes in memory.items():
        for index, part in enumerate(processes):
            role = "master" if index == 0 else f"worker {index}"
            print(f"{server:<34}  {role:<8}  {part['rss_mib']:>7.1f}  {part['pss_mib']:>7.1f}  "
                  f"{part['private_mib']:>7.1f}")
        print(f"{server:<34}  {'total':<8}  {sum(p['rss_mib'] for p in processes):>7.1f}  "
              f"{sum(p['pss_mib'] for p in processes):>7.1f}  "
              f"{sum(p['private_mib'] for p in processes):>7.1f}")
    print("(RSS counts a page shared by several processes in each; PSS splits it among "
          "them; private is what no other process holds)")
    print()


def check_targets(rows: dict[tuple[str, str], Row], queries: dict[str, int],
                  memory: dict[str, list[dict]]) -> list[dict]:
    checks: list[dict] = []

    def add(target: str, passed: bool | None, got: str) -> None:
        verdict = "SKIP" if passed is None else ("PASS" if passed else "MISS")
        checks.append({"target": target, "result": verdict, "got": got})

    for name, share in SHARE_TARGETS.items():
        row = rows.get((MANY, name))
        got = "not run" if row is None else f"{row.percent_of_jinja or 0:.1f} %"
        add(f"{name}, many readers, >= {share:.0f} % of the Jinja ceiling",
            None if row is None else (row.percent_of_jinja or 0) >= share, got)
    row = rows.get((MANY, NEW_WORDS))
    add(f"{NEW_WORDS}, many readers, p99 < {SEARCH_P99_MS:.0f} ms",
        None if row is None else row.result.p99_ms < SEARCH_P99_MS,
        "not run" if row is None else f"p99 {row.result.p99_ms:.1f} ms")
    over = {name: count for name, count in queries.items() if count > MAX_QUERIES}
    add(f"every page <= {MAX_QUERIES} queries", not over,
        ", ".join(f"{name} {count}" for name, count in over.items())
        or f"at most {max(queries.values())}")
    app, floor = memory.get("app"), memory.get("floor")
    if app and floor:
        app_pss = sum(p["pss_mib"] for p in app)
        floor_pss = sum(p["pss_mib"] for p in floor)
        add(f"PSS of master + workers <= floor's + {PSS_OVER_FLOOR_MIB:.0f} MiB",
            app_pss <= floor_pss + PSS_OVER_FLOOR_MIB,
            f"{app_pss:.1f} MiB against {floor_pss:.1f} + {PSS_OVER_FLOOR_MIB:.0f}")
        floor_worker = max((p["private_mib"] for p in floor[1:]), default=0.0)
        worst = max((p["private_mib"] for p in app[1:]), default=0.0)
        add(f"each worker's private memory <= floor worker's + "
            f"{WORKER_PRIVATE_OVER_FLOOR_MIB:.0f} MiB",
            worst <= floor_worker + WORKER_PRIVATE_OVER_FLOOR_MIB,
            f"largest {worst:.1f} MiB against {floor_worker:.1f} + "
            f"{WORKER_PRIVATE_OVER_FLOOR_MIB:.0f}")
    return checks


# --- Main -----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", action="append", default=None, metavar="URL",
                        help="a database to measure, given again for another (\"sqlite\": "
                             "benchmarks/.data/large.sqlite3); each has its manifest in "
                             "benchmarks/.data/ (default: --manifest)")
    parser.add_argument("--seed", action="store_true",
                        help="seed each database first (seed_large.py) when its manifest "
                             "is missing")
    parser.add_argument("--reseed", action="store_true", help="seed each database first, always")
    parser.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST,
                        help=f"written by seed_large.py (default {DEFAULT_MANIFEST})")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up (0: none)")
    parser.add_argument("--pages", default=None,
                        help="comma-separated page names from the manifest (default: all)")
    parser.add_argument("--modes", default="one,many,off",
                        help="which runs: one (one reader), many (many readers), off (many "
                             "readers, page cache off); default all three")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be at least 1 and --warmup at least 0")
    args.modes = {mode.strip() for mode in args.modes.split(",") if mode.strip()}
    if not args.modes or args.modes - {"one", "many", "off"}:
        parser.error("--modes takes one, many and off")
    return args


def _on_sigterm(_signum, _frame) -> None:
    # Unwind through the finally blocks, which stop gunicorn and wrk.
    raise SystemExit(143)


def manifest_for(url: str) -> Path:
    """Where the manifest of a database given by --database-url lives."""
    if url == "sqlite":
        return DEFAULT_MANIFEST
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = Path(parsed.database or "db").stem
    return HERE / ".data" / f"large-{parsed.get_backend_name()}-{name}.json"


def seed(url: str, manifest: Path) -> None:
    argv = [sys.executable, str(HERE / "seed_large.py"), "--manifest", str(manifest)]
    if url != "sqlite":
        argv += ["--database-url", url]
    print(f"seeding {url} (a few minutes) ...", file=sys.stderr, flush=True)
    done = subprocess.run(argv, cwd=ROOT, check=False)  # noqa: S603 (our own script)
    if done.returncode != 0:
        raise BenchError(f"seeding {url} failed ({done.returncode})")


def _select_pages(manifest: dict, args, searches: list[str]) -> dict[str, str]:
    pages: dict[str, str] = dict(manifest["pages"])
    if "search" in pages:
        pages[NEW_WORDS] = searches[0]
    if args.pages:
        wanted = [name.strip() for name in args.pages.split(",") if name.strip()]
        if not wanted:
            raise BenchError("--pages names no page")
        unknown = [name for name in wanted if name not in pages and name != WRITES]
        if unknown:
            raise BenchError(f"unknown pages {', '.join(unknown)}; the manifest has "
                             f"{', '.join(pages)}")
        pages = {name: path for name, path in pages.items() if name in wanted}
    return pages


def _header(figures: dict, args) -> None:
    print(f"date:      {figures['date']}")
    print(f"machine:   {figures['machine']}, {figures['cpu_count']} CPUs, {figures['cpu_model']}; "
          f"load average {' '.join(str(load) for load in figures['load_average'])}")
    print(f"software:  Python {figures['python']}, gunicorn {figures['gunicorn']} "
          f"({WORKERS} sync workers, --preload), wrk -t{THREADS} -c{CONNECTIONS} "
          f"-d{args.duration}s (warm-up {args.warmup}s) with benchmarks/readers.lua")
    print(f"database:  {figures['dialect']}")
    print("counts:    " + ", ".join(f"{k} {v:,}" for k, v in figures["counts"].items()))
    print(flush=True)


SECRET_KEY = "benchmark"
# The app runs with its own gunicorn settings (preload, then warm the app and
# freeze it out of the garbage collector before forking: coprod_study.serving).
APP_CONFIG = "python:coprod_study.gunicorn_conf"


def _app_env(url: str, folder: str, page_cache: bool) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET_KEY,
        "COPROD_INSTANCE_PATH": folder,
        # Plain HTTP on loopback: the session cookie must not be Secure-only.
        "COPROD_SECURE_COOKIES": "0",
        # GETs and one writer only, but keep the limits out of the way.
        "COPROD_LOGIN_FAILURE_LIMIT": "10000/minute",
        "COPROD_POST_LIMIT": "10000/minute",
        "COPROD_API_RATE_LIMIT": "1000000/minute",
        # Responses say whether a kept page answered (counted by readers.lua).
        "COPROD_PAGE_CACHE_HEADER": "1",
    }
    if not page_cache:
        env["COPROD_PAGE_CACHE_MB"] = "0"
    return env


def run(args: argparse.Namespace, manifest_path: Path) -> dict:
    from sqlalchemy.engine import make_url

    if not manifest_path.exists():
        raise BenchError(f"no manifest at {manifest_path}: run benchmarks/seed_large.py first "
                         "(or give --seed)")
    manifest = json.loads(manifest_path.read_text())
    searches = new_word_searches(NEW_WORDS_QUERIES)
    pages = _select_pages(manifest, args, searches)
    find_tool("wrk")
    find_tool("gunicorn")
    url = _app_database_url(manifest["database_url"])
    dialect = make_url(url).get_backend_name()
    readers: dict[str, list[str]] = manifest.get("readers") or {}
    if ({"many", "off"} & args.modes) and not readers:
        raise BenchError(f"{manifest_path} names no readers: seed again with this "
                         "seed_large.py")

    figures: dict = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": os.uname().machine,
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        # Anything else busy on the machine skews every figure below.
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "python": sys.version.split()[0],
        "gunicorn": _version("gunicorn"),
        "dialect": dialect,
        "manifest": str(manifest_path),
        "counts": manifest.get("counts", {}),
        "settings": {"workers": WORKERS, "threads": THREADS, "connections": CONNECTIONS,
                     "duration_s": args.duration, "warmup_s": args.warmup, "preload": True,
                     "modes": sorted(args.modes)},
    }
    _header(figures, args)

    progress = sys.stderr
    print("counting queries per request in-process ...", file=progress, flush=True)
    # The new-words search counts a search the process has not seen.
    queries = count_queries(url, manifest["email"], pages, second={NEW_WORDS: searches[1]})
    built = count_queries(url, manifest["email"], pages, second={NEW_WORDS: searches[1]},
                          keep_pages=False)
    if "question_20" in pages:
        queries[WRITES] = built[WRITES] = built["question_20"]

    rows: dict[tuple[str, str], Row] = {}
    memory: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        cookie_files: dict[str, Path] = {}
        counts: dict[str, int] = {}
        if {"many", "off"} & args.modes:
            wanted = sorted({email for emails in readers.values() for email in emails})
            print(f"making {len(wanted)} sessions ...", file=progress, flush=True)
            made = make_sessions(url, SECRET_KEY, wanted)
            for kind, emails in readers.items():
                cookie_files[kind] = work / f"readers-{kind}.txt"
                cookie_files[kind].write_text("\n".join(made[email] for email in emails) + "\n")
                counts[kind] = len(emails)
        paths_file = work / "searches.txt"
        paths_file.write_text("\n".join(searches) + "\n")

        def readers_of(name: str) -> tuple[Path, int]:
            kind = READERS_OF.get(name, DEFAULT_READERS)
            return cookie_files[kind], counts[kind]

        def measure_pages(app: Gunicorn, mode: str, cookies: Path | None) -> None:
            for name, path in pages.items():
                listed = paths_file if name == NEW_WORDS else None
                shown = f"{path} and {len(searches) - 1:,} more" if listed else path
                if cookies is None:
                    file, count = readers_of(name)
                else:
                    file, count = cookies, 1
                print(f"  {mode}: {name}: {shown}", file=progress, flush=True)
                result = measure(app, path, args, file, listed)
                rows[(mode, name)] = Row(name, path, result, queries[name], built[name],
                                         readers=count)

        if {"one", "many"} & args.modes:
            log = work / "app.log"
            with Gunicorn("app", "coprod_study:create_app()",
                          _app_env(url, folder, page_cache=True), log, config=APP_CONFIG) as app:
                print(f"starting the app on port {app.port} ...", file=progress, flush=True)
                app.wait_ready("/healthz", lambda status, body: status == 200 and '"ok"' in body)
                browser = sign_in(app.port, manifest["email"], manifest["password"])
                check_pages(browser, pages)
                for name, path in pages.items():
                    if cookie_files:
                        check_readers(app.port, readers_of(name)[0].read_text().split("\n")[:-1],
                                      path)
                if "one" in args.modes:
                    one = work / "one-reader.txt"
                    one.write_text(browser.cookie_header() + "\n")
                    measure_pages(app, ONE, one)
                if "many" in args.modes:
                    measure_pages(app, MANY, None)
                    if "question_20" in pages:
                        _measure_with_writes(app, manifest, pages, args, readers_of, rows,
                                             queries, figures)
                # wrk counts a redirect (say, to the sign-in page) as a success: make
                # sure the session held to the end.
                check_pages(browser, pages)
                memory["app"] = memory_of(app.pids())
                figures["peak_rss_mib"] = _mib(app.peak_rss_kib)
                figures["peak_pss_mib"] = _mib(app.peak_pss_kib)
                figures["workers_at_end"] = len(app.workers())

        if "off" in args.modes:
            log = work / "app-off.log"
            with Gunicorn("app, page cache off", "coprod_study:create_app()",
                          _app_env(url, folder, page_cache=False), log,
                          config=APP_CONFIG) as app:
                print(f"starting the app, page cache off, on port {app.port} ...",
                      file=progress, flush=True)
                app.wait_ready("/healthz", lambda status, body: status == 200 and '"ok"' in body)
                measure_pages(app, MANY_OFF, None)
                memory["app, page cache off"] = memory_of(app.pids())

        # The ceiling and the floor through the same wrk script, with a cookie they
        # ignore, so every figure pays the script's cost alike.
        ignored = work / "no-session.txt"
        ignored.write_text("unused=1\n")
        log = work / "ceiling.log"
        with Gunicorn("ceiling", "ceiling_app:app", {**os.environ}, log, chdir=HERE) as bare:
            print(f"starting the ceiling app on port {bare.port} ...", file=progress, flush=True)
            bare.wait_ready("/", lambda status, body: status == 200 and body == "ok")
            status, _location, _body = Browser(bare.port).get("/jinja")
            if status != 200:
                raise BenchError(f"ceiling app: /jinja answered {status}\n{bare.log_tail()}")
            for name, path in CEILING_PAGES.items():
                print(f"  ceiling: {name}: {path}", file=progress, flush=True)
                rows[("ceiling", name)] = Row(name, path, measure(bare, path, args, ignored))

        log = work / "floor.log"
        with Gunicorn("floor", "floor_app:app", {**os.environ}, log, chdir=HERE) as floor:
            print(f"starting the floor app on port {floor.port} ...", file=progress, flush=True)
            floor.wait_ready("/", lambda status, body: status == 200 and "<em>Markdown</em>" in body)
            print("  the stack's libraries alone: /", file=progress, flush=True)
            rows[("floor", "floor app")] = Row("floor app", "/",
                                               measure(floor, "/", args, ignored))
            memory["floor"] = memory_of(floor.pids())

    jinja_rps = rows[("ceiling", JINJA)].result.requests_per_second
    for row in rows.values():
        row.percent_of_jinja = (
            100 * row.result.requests_per_second / jinja_rps if jinja_rps else None
        )

    print()
    for mode, title in ((MANY, f"{MANY} (each request the next reader's session)"),
                        (MANY_OFF, MANY_OFF), (ONE, ONE),
                        ("ceiling", "ceiling and floor (no session)")):
        shown = [row for (kind, _name), row in rows.items()
                 if kind == mode or (mode == "ceiling" and kind == "floor")]
        if shown:
            print_table(title, shown)
    print_memory(memory)
    if figures.get("workers_at_end", WORKERS) != WORKERS:
        print(f"note: {figures['workers_at_end']} workers at the end, not {WORKERS} "
              "(a worker was restarted?)")
    flagged = [f"{mode}: {row.name}" for (mode, _n), row in rows.items() if row.result.flagged]
    if flagged:
        print(f"flagged (errors during the run): {', '.join(flagged)}")

    # The query target holds for a page built afresh as well as for a kept one.
    most = {name: max(queries[name], built[name]) for name in queries}
    checks = check_targets(rows, most, memory)
    print("targets:")
    for check in checks:
        print(f"  {check['result']:<4}  {check['target']}: {check['got']}")

    figures["runs"] = [
        {"mode": mode, "page": row.name, "path": row.path, "readers": row.readers,
         "queries": row.queries, "built_queries": row.built_queries,
         "percent_of_jinja": row.percent_of_jinja, "hit_rate": row.result.hit_rate,
         **asdict(row.result)}
        for (mode, _name), row in rows.items()
    ]
    figures["memory"] = memory
    figures["targets"] = checks
    return figures


def _measure_with_writes(app, manifest, pages, args, readers_of, rows, queries,
                         figures) -> None:
    """The question page, many readers, while another session of the benchmark's
    person edits a reply on it twice a second."""
    path = pages["question_20"]
    print(f"  {MANY}: {WRITES}: {path}", file=sys.stderr, flush=True)
    writer = Writer(app.port, manifest["email"], manifest["password"], path, WRITES_EVERY)
    writer.start()
    try:
        file, count = readers_of("question_20")
        result = measure(app, path, args, file)
    finally:
        writer.stop()
    rows[(MANY, WRITES)] = Row(WRITES, path, result, queries[WRITES], queries[WRITES],
                               readers=count)
    figures["edits_made_meanwhile"] = writer.posted
    print(f"    ({writer.posted} edits made meanwhile, {writer.refused} refused)",
          file=sys.stderr, flush=True)


def print_side_by_side(results: dict[str, dict]) -> None:
    """Many readers' req/s and share of the ceiling, one column pair per database."""
    names = list(results)
    pages: list[str] = []
    for figures in results.values():
        for run in figures["runs"]:
            if run["mode"] in (MANY, "ceiling") and run["page"] not in pages:
                pages.append(run["page"])
    print("many readers, side by side (req/s and % of each run's Jinja ceiling):")
    head = f"{'page':<20}" + "".join(f"  {name[:22]:>22}" for name in names)
    print(head)
    print("-" * len(head))
    for page in pages:
        line = f"{page:<20}"
        for name in names:
            found = next((run for run in results[name]["runs"] if run["page"] == page
                          and run["mode"] in (MANY, "ceiling")), None)
            line += (f"  {'-':>22}" if found is None else
                     f"  {found['requests_per_second']:>12.1f} ({found['percent_of_jinja']:>5.1f} %)")
        print(line)


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.path.insert(0, str(ROOT))
    targets = ([(url, manifest_for(url)) for url in args.database_url] if args.database_url
               else [(None, args.manifest)])
    results: dict[str, dict] = {}
    try:
        for url, manifest in targets:
            if url is not None and (args.reseed or (args.seed and not manifest.exists())):
                seed(url, manifest)
            if len(targets) > 1:
                print(f"=== {url} ===", flush=True)
            figures = run(args, manifest)
            results[figures["dialect"] if url is None else url] = figures
            print()
    except BenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if len(results) > 1:
        print_side_by_side(results)
    if args.json:
        shown = next(iter(results.values())) if len(results) == 1 else results
        args.json.write_text(json.dumps(shown, indent=2, allow_nan=False, default=str) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
