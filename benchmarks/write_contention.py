"""Write contention: many people posting at once over HTTP, with the table counters on and off.

Every committing transaction raises one `data_versions` row per table it wrote
(coprod_study.data_versions), so on PostgreSQL two commits that write the same
table wait for each other on that row until the first commits. This measures
what that costs:

    python benchmarks/write_contention.py --database-url postgresql+psycopg://postgres@127.0.0.1/test_ops_bench
    python benchmarks/write_contention.py --sqlite --writers 8

For each number of writers (8, 32, 64 by default) and each setting of the
counters (COPROD_DATA_VERSIONS on, off) it starts gunicorn (gthread, 4 workers
of 16 threads, so 64 requests can be in the app at once), signs the writers in,
and lets each loop for --seconds over three writes: a reply to a peer's answer
(replies, notifications), a post in the group's thread (posts, notifications,
thread follows) and an edit of their own answer (answers, answer revisions).
Writers are spread over 8 groups. Printed per run: writes/s, p50 and p99 of
the POSTs, failed writes, and on PostgreSQL the lock waits sampled every 50 ms
from pg_stat_activity (backends waiting on a lock: mean, max, share of samples
with one waiting, and of those, waiting behind an upsert of data_versions) and
pg_locks (ungranted locks).

The database given is dropped and made again (it must be one for this alone).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import servers  # noqa: E402
from tests.factories import DEFAULT_PASSWORD  # noqa: E402

GROUPS = 8
WORKERS = 4
THREADS = 16


@dataclass
class Result:
    database: str
    writers: int
    counters: str
    seconds: float
    writes: int
    failed: int
    writes_per_second: float
    p50_ms: float
    p99_ms: float
    lock_wait_mean: float | None = None
    lock_wait_max: int | None = None
    samples_with_wait: float | None = None
    waits_on_data_versions: float | None = None
    ungranted_locks_max: int | None = None


def _recreate_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    assert name and name.replace("_", "").isalnum(), name
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def _seed(url: str, instance: Path, writers: int) -> dict:
    from coprod_study import create_app
    from coprod_study.discussion import service as discussion
    from coprod_study.extensions import db
    from tests import factories as f

    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": servers.SECRET_KEY, "RATELIMIT_ENABLED": False,
    })
    people = []
    with app.app_context():
        groups = []
        for number in range(GROUPS):
            facilitator = f.make_user(role="facilitator", email=f"bench-f{number}@example.org")
            group = f.make_group(facilitator, name=f"Contention group {number}")
            thread = discussion.create_thread(facilitator, group, title="Open thread", body="Go.")
            _, question = f.first_question(group)
            groups.append((group, thread, question))
        for number in range(writers):
            group, thread, question = groups[number % GROUPS]
            person = f.add_member(group, f.make_user(email=f"bench-w{number}@example.org"))
            answer = f.make_answer(group, person, question, body=f"First answer {number}")
            people.append({"email": person.email, "group": group.slug, "thread": thread.id,
                           "answer": answer.id})
        # Each writer replies to the answer of the next writer of the same group.
        for person in people:
            peers = [p for p in people if p["group"] == person["group"]]
            person["peer_answer"] = peers[(peers.index(person) + 1) % len(peers)]["answer"]
        db.session.remove()
        db.engine.dispose()
    return {"people": people}


class LockSampler(threading.Thread):
    """Samples pg_stat_activity and pg_locks every 50 ms while the writers run."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        import psycopg
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
        self.database = parsed.database
        self.connection = psycopg.connect(
            host=parsed.host or "127.0.0.1", port=parsed.port or 5432,
            user=parsed.username or "postgres", dbname=parsed.database, autocommit=True,
        )
        self.samples: list[tuple[int, int, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            row = self.connection.execute(
                "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
                "count(*) FILTER (WHERE wait_event_type = 'Lock' AND query ILIKE "
                "'%%data_versions%%'), "
                "(SELECT count(*) FROM pg_locks WHERE NOT granted) "
                "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            ).fetchone()
            self.samples.append(tuple(int(value) for value in row))
            self.stopping.wait(0.05)

    def summary(self) -> dict:
        self.connection.close()
        if not self.samples:
            return {}
        waiting = [s[0] for s in self.samples]
        with_wait = [s for s in self.samples if s[0]]
        return {
            "lock_wait_mean": round(statistics.fmean(waiting), 2),
            "lock_wait_max": max(waiting),
            "samples_with_wait": round(len(with_wait) / len(self.samples), 3),
            "waits_on_data_versions": round(
                sum(s[1] for s in with_wait) / max(1, sum(s[0] for s in with_wait)), 3
            ),
            "ungranted_locks_max": max(s[2] for s in self.samples),
        }


def _writer(base: str, person: dict, deadline: float, warm_until: float, out: list, failed: list):
    session = servers.signed_in_session(base, person["email"], DEFAULT_PASSWORD)
    token = servers.csrf_of(session, base)
    group = person["group"]
    actions = [
        (f"/groups/{group}/answers/{person['peer_answer']}/replies", "reply"),
        (f"/groups/{group}/threads/{person['thread']}", "post"),
        (f"/groups/{group}/answers/{person['answer']}/edit", "edit"),
    ]
    step = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            return
        path, kind = actions[step % len(actions)]
        step += 1
        started = time.perf_counter()
        try:
            response = session.post(
                base + path, data={"body": f"{kind} {step} by {person['email']}",
                                   "csrf_token": token},
                allow_redirects=False, timeout=60,
            )
            # 302: written; a refused form comes back with 303 (Post/Redirect/Get) or 400.
            ok = response.status_code == 302
        except requests.RequestException:
            ok = False
        elapsed = time.perf_counter() - started
        if now < warm_until:
            continue
        (out if ok else failed).append(elapsed)


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_once(url: str, database: str, people: list, writers: int, counters: str,
             seconds: float, warmup: float, folder: Path) -> Result:
    instance = folder / f"instance-{writers}-{counters}"
    instance.mkdir(parents=True, exist_ok=True)
    # One connection per thread of each worker.
    (instance / "config.py").write_text(
        'SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, '
        f'"pool_size": {THREADS}, "max_overflow": 0}}\n'
    )
    env = servers.environment(
        instance, url, COPROD_POST_LIMIT="100000/minute", COPROD_REQUEST_LOG="0",
        COPROD_DATA_VERSIONS={"on": "1", "off": "0"}.get(counters, counters),
    )
    server = servers.Gunicorn(
        env, folder, workers=WORKERS, name=f"w{writers}-{counters}",
        options=("--worker-class", "gthread", "--threads", str(THREADS)),
    )
    server.start(timeout=120)
    sampler = LockSampler(url) if database == "postgresql" else None
    try:
        latencies: list[float] = []
        failures: list[float] = []
        start = time.monotonic() + 2.0  # time for every writer to sign in
        warm_until = start + warmup
        deadline = warm_until + seconds
        threads = [
            threading.Thread(
                target=_writer,
                args=(server.url, people[number], deadline, warm_until, latencies, failures),
                daemon=True,
            )
            for number in range(writers)
        ]
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, warm_until - time.monotonic()))
        if sampler:
            sampler.start()
        for thread in threads:
            thread.join()
        locks = {}
        if sampler:
            sampler.stopping.set()
            sampler.join()
            locks = sampler.summary()
    finally:
        server.stop()
    return Result(
        database=database, writers=writers, counters=counters, seconds=seconds,
        writes=len(latencies), failed=len(failures),
        writes_per_second=round(len(latencies) / seconds, 1),
        p50_ms=round(_percentile(latencies, 0.50) * 1000, 1),
        p99_ms=round(_percentile(latencies, 0.99) * 1000, 1),
        **locks,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a PostgreSQL database for this alone")
    parser.add_argument("--sqlite", action="store_true", help="a fresh SQLite file instead")
    parser.add_argument("--writers", type=int, nargs="+", default=[8, 32, 64])
    parser.add_argument(
        "--counters", nargs="+", choices=["on", "off", "in-transaction"], default=["on", "off"],
        help="on: as the app runs (on PostgreSQL raised after each commit); in-transaction: "
             "raised inside the committing transaction (the first design); off: none",
    )
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each setting, alternating which goes first")
    parser.add_argument("--json", help="also write the results to this file")
    options = parser.parse_args(argv)
    if not options.sqlite and not options.database_url:
        parser.error("give --database-url (PostgreSQL) or --sqlite")
    folder = Path(tempfile.mkdtemp(prefix="coprod-contention-"))
    if options.sqlite:
        url, database = f"sqlite:///{folder / 'bench.sqlite3'}", "sqlite"
    else:
        url, database = options.database_url, "postgresql"
        _recreate_postgres(url)
    servers.cli(servers.environment(folder / "migrate", url), "init-db")
    people = _seed(url, folder / "seed", max(options.writers))["people"]
    settings = options.counters
    results = []
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load "
          f"{os.getloadavg()[0]:.2f}, {database}, gunicorn gthread {WORKERS}x{THREADS}")
    header = ("db", "writers", "counters", "writes/s", "p50 ms", "p99 ms", "failed",
              "lock waiters mean/max", "samples waiting", "of them on data_versions")
    print(" | ".join(header))
    for writers in options.writers:
        for repeat in range(options.repeat):
            for counters in settings if repeat % 2 == 0 else settings[::-1]:
                result = _run_and_print(
                    url, database, people, writers, counters, options, folder
                )
                results.append(result)
    for writers in options.writers:
        def mean(setting, writers=writers):
            runs = [r.writes_per_second for r in results
                    if r.writers == writers and r.counters == setting]
            return statistics.fmean(runs) if runs else None

        off = mean("off")
        for setting in settings:
            if setting != "off" and off and mean(setting) is not None:
                cost = 1 - mean(setting) / off
                print(f"{writers} writers: {mean(setting):.1f} writes/s with the counters "
                      f"{setting}, {off:.1f} without: they cost {cost:.0%} of throughput")
    if options.json:
        Path(options.json).write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 0


def _run_and_print(url, database, people, writers, counters, options, folder) -> Result:
    result = run_once(url, database, people, writers, counters, options.seconds,
                      options.warmup, folder)
    locks = ("–", "–", "–") if result.lock_wait_mean is None else (
        f"{result.lock_wait_mean}/{result.lock_wait_max}",
        f"{result.samples_with_wait:.0%}", f"{result.waits_on_data_versions:.0%}",
    )
    print(" | ".join(str(v) for v in (
        database, writers, counters, result.writes_per_second,
        result.p50_ms, result.p99_ms, result.failed, *locks,
    )), flush=True)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
