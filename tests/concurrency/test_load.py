"""Concurrency and integrity: many clients over HTTP against gunicorn, on SQLite and PostgreSQL.

The database is a SQLite file in a temporary instance, or, when TEST_DATABASE_URL
is set, a private PostgreSQL database made for the test (the shared one belongs
to the rest of the suite).
"""

import multiprocessing
import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests import databases, servers
from tests.concurrency import load_client

pytestmark = pytest.mark.slow

CLIENTS = 8
OPERATIONS = 200
ANSWERS_PER_CLIENT = OPERATIONS // 5
ROOT_ANSWERS = 10
TABLES = {"answer": "answers", "reply": "replies", "post": "posts"}
PASSWORD = "a long test passphrase"


@pytest.fixture
def site(tmp_path):
    """An instance with the sample catalog, migrated by `coprod-study init-db`, and seeded."""
    name = None
    instance = tmp_path / "instance"
    if databases.POSTGRES_URL:
        databases.drop_stale()
        name = databases.private_name("load")
        url = databases.create(name)
        env = servers.environment(instance, url)
    else:
        url = f"sqlite:///{instance / 'coprod_study.sqlite3'}"
        env = servers.environment(instance)
    env["COPROD_POST_LIMIT"] = "100000/minute"
    servers.cli(env, "init-db")
    seeded = _seed(url, instance)
    yield {"env": env, "url": url, "folder": tmp_path, "instance": instance, **seeded}
    if name:
        databases.drop(name)


def _seed(url: str, instance: Path) -> dict:
    from coprod_study import create_app
    from coprod_study.account import tokens as api_tokens
    from coprod_study.discussion import service as discussion
    from coprod_study.extensions import db
    from coprod_study.groups import answers as answer_service
    from coprod_study.groups import service as group_service
    from coprod_study.models import Episode
    from tests import factories as f

    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": servers.SECRET_KEY, "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        facilitator = f.make_user(role="facilitator", email="load-facilitator@example.org")
        group = f.make_group(facilitator, name="Load group", post_first=False)
        people = [
            f.add_member(group, f.make_user(email=f"load{number}@example.org"))
            for number in range(CLIENTS)
        ]
        episodes = db.session.scalars(select_episodes(Episode)).all()
        while True:
            questions = [
                (episode, question)
                for episode in episodes
                for question in group_service.questions_for(
                    episode, group_service.extra_questions(group, [episode.id])
                )
            ]
            if len(questions) >= ANSWERS_PER_CLIENT:
                break
            group_service.add_extra_question(
                facilitator, group, episodes[0], f"Extra load question {len(questions)}?"
            )
        roots = [
            answer_service.post_answer(facilitator, group, question, f"Root answer {number}.").id
            for number, (_, question) in enumerate(questions[:ROOT_ANSWERS])
        ]
        thread = discussion.create_thread(facilitator, group, title="Load thread", body="Go.")
        token = api_tokens.create_token(facilitator, "load counts", "read").secret
        data = {
            "group": group.slug,
            "thread": thread.id,
            "questions": [(episode.slug, question.number) for episode, question in questions],
            "question_keys": [
                (episode.slug, question.number, question.study_question_id,
                 question.group_question_id)
                for episode, question in questions
            ],
            "roots": roots,
            "emails": [person.email for person in people],
            "token": token,
        }
        db.session.remove()
        db.engine.dispose()
    return data


def select_episodes(model):
    from sqlalchemy import select

    return select(model).order_by(model.number)


def _jobs(site: dict, base: str, clients: int, operations: int, run: str) -> list[dict]:
    steps = load_client.plan(operations, len(site["questions"]), site["roots"])
    return [
        {
            "base": base, "client": number, "run": run, "email": site["emails"][number],
            "password": PASSWORD, "group": site["group"], "thread": site["thread"],
            "questions": site["questions"], "plan": steps,
        }
        for number in range(clients)
    ]


def _load(jobs: list[dict]) -> list[dict]:
    # Separate processes (not threads): each client has its own interpreter and sockets.
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        return [result for results in pool.map(load_client.run, jobs) for result in results]


def _rows(url: str, run: str) -> dict[str, list]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                kind: connection.execute(
                    text(f"SELECT id, body, body_html FROM {table} WHERE body LIKE :pattern"),  # noqa: S608
                    {"pattern": f"Load test **load-{run}-%"},
                ).all()
                for kind, table in TABLES.items()
            }
    finally:
        engine.dispose()


def _markers(rows: dict[str, list]) -> Counter:
    found = Counter()
    for kind, items in rows.items():
        for _, body, _ in items:
            found[(kind, load_client.MARKER.search(body).group(0))] += 1
    return found


def _incomplete(url: str, rows: dict[str, list]) -> list[str]:
    """Rows that are not whole: HTML not rendered from the text, or no search document."""
    from coprod_study.markup import render_markdown

    problems = []
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            for kind, items in rows.items():
                indexed = set(connection.execute(
                    text("SELECT ref_id FROM search_documents WHERE kind = :kind"), {"kind": kind}
                ).scalars())
                for row_id, body, html in items:
                    if html != str(render_markdown(body)):
                        problems.append(f"{kind} {row_id}: HTML does not match its text")
                    if row_id not in indexed:
                        problems.append(f"{kind} {row_id}: not in the search index")
    finally:
        engine.dispose()
    return problems


def _counters(site: dict, base: str, rows_url: str) -> list[str]:
    """The counts the site shows (through the API) against the rows in the database:
    answers per question, posts per thread, replies per answer."""
    headers = {"Authorization": f"Bearer {site['token']}"}
    group = site["group"]

    def shown(path: str) -> dict:
        response = requests.get(f"{base}/api/v1/groups/{group}{path}", headers=headers, timeout=60)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        return response.json()

    # Everything the site shows first: in this process a database connection would
    # take SQLite's write lock (the app's BEGIN IMMEDIATE outside requests).
    answers = {}
    for episode in sorted({key[0] for key in site["question_keys"]}):
        for item in shown(f"/episodes/{episode}/questions?limit=100")["items"]:
            answers[(episode, item["number"])] = item["answer_count"]
    posts = {item["id"]: item["post_count"] for item in shown("/threads?limit=100")["items"]}
    replies = {root: shown(f"/answers/{root}")["reply_count"] for root in site["roots"]}

    problems = []
    engine = create_engine(rows_url)
    try:
        with engine.connect() as connection:
            def count(sql: str, **values) -> int:
                return connection.execute(text(sql), values).scalar()

            group_id = count("SELECT id FROM study_groups WHERE slug = :slug", slug=group)
            for episode, number, study_id, extra_id in site["question_keys"]:
                rows = count(
                    "SELECT count(*) FROM answers WHERE group_id = :g AND deleted_at IS NULL "
                    "AND (study_question_id = :s OR group_question_id = :q)",
                    g=group_id, s=study_id or -1, q=extra_id or -1,
                )
                if answers.get((episode, number)) != rows:
                    problems.append(f"{episode} question {number}: shows "
                                    f"{answers.get((episode, number))} answers, rows {rows}")
            for thread_id, number in posts.items():
                rows = count("SELECT count(*) FROM posts WHERE thread_id = :t AND deleted_at IS NULL",
                             t=thread_id)
                if number != rows:
                    problems.append(f"thread {thread_id}: shows {number} posts, rows {rows}")
            for root, number in replies.items():
                rows = count("SELECT count(*) FROM replies WHERE answer_id = :a AND deleted_at IS NULL",
                             a=root)
                if number != rows:
                    problems.append(f"answer {root}: shows {number} replies, rows {rows}")
    finally:
        engine.dispose()
    return problems


def _backup_while_loading(site: dict, server, outcome: dict) -> None:
    deadline = time.monotonic() + 300
    # Well into the load: a third of the writes are done.
    while time.monotonic() < deadline:
        if len([row for row in server.served() if row[1] == "POST"]) >= CLIENTS * OPERATIONS // 3:
            break
        time.sleep(0.05)
    destination = site["folder"] / "backup.sqlite3"
    try:
        outcome["result"] = servers.cli(site["env"], "backup", str(destination))
        outcome["path"] = destination
    except AssertionError as error:
        outcome["error"] = str(error)


def test_eight_clients_lose_nothing_and_duplicate_nothing(site, capsys):
    run = uuid.uuid4().hex[:8]
    sqlite = not databases.POSTGRES_URL
    with servers.Gunicorn(site["env"], site["folder"], workers=2) as server:
        jobs = _jobs(site, server.url, CLIENTS, OPERATIONS, run)
        backup: dict = {}
        backup_thread = None
        if sqlite:
            backup_thread = threading.Thread(
                target=_backup_while_loading, args=(site, server, backup), daemon=True
            )
            backup_thread.start()
        began = time.monotonic()
        results = _load(jobs)
        elapsed = time.monotonic() - began
        if backup_thread:
            backup_thread.join(timeout=300)
        counters = _counters(site, server.url, site["url"])
        workers = {pid for pid, method, _, _ in server.served() if method == "POST"}

    errors = [r for r in results if r["error"] or r["status"] not in (302, 303)]
    sent = Counter((r["kind"], r["marker"]) for r in results)
    rows = _rows(site["url"], run)
    stored = _markers(rows)
    lost = set(sent) - set(stored)
    duplicated = {key: n for key, n in stored.items() if n > 1}
    unexpected = set(stored) - set(sent)
    database = "PostgreSQL" if not sqlite else "SQLite"
    with capsys.disabled():
        print(
            f"\nload on {database}: {CLIENTS} clients x {OPERATIONS} = {len(results)} writes "
            f"({dict(Counter(r['kind'] for r in results))}) in {elapsed:.1f}s "
            f"({len(results) / elapsed:.0f}/s) by {len(workers)} workers: errors = {len(errors)}, "
            f"lost = {len(lost)}, duplicated = {len(duplicated)}, counter mismatches = {len(counters)}"
        )
    assert len(results) == CLIENTS * OPERATIONS
    assert not errors, errors[:5]
    assert not lost and not duplicated and not unexpected, (list(lost)[:5], duplicated, unexpected)
    assert sum(len(items) for items in rows.values()) == CLIENTS * OPERATIONS
    assert not _incomplete(site["url"], rows)
    assert not counters, counters
    assert len(workers) >= 2
    if not sqlite:
        # PostgreSQL is backed up with pg_dump; the command says so instead of copying.
        refused = subprocess.run(
            [*servers.cli_command(), "backup", str(site["folder"] / "backup.sqlite3")],
            env=site["env"], capture_output=True, text=True, timeout=120, check=False,
        )
        assert refused.returncode != 0 and "pg_dump" in refused.stdout + refused.stderr
        with capsys.disabled():
            print("backup during the load: PostgreSQL, where `coprod-study backup` points to "
                  "pg_dump (checked); the SQLite run checks the copy")
    if sqlite:
        assert "error" not in backup, backup.get("error")
        copied = _check_backup(backup["path"], site["url"], run)
        with capsys.disabled():
            print(f"backup during the load: {backup['result'].stdout.strip()} "
                  f"It holds {sum(copied.values())} of the {len(results)} writes.")


def _check_backup(path: Path, live_url: str, run: str) -> None:
    """The copy opens, passes integrity and foreign key checks, and holds a consistent
    part of the load (no reply without its answer, fewer rows than the live file)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        counts = {
            table: connection.execute(
                f"SELECT count(*) FROM {table} WHERE body LIKE ?", (f"Load test **load-{run}-%",)  # noqa: S608
            ).fetchone()[0]
            for table in TABLES.values()
        }
        orphans = connection.execute(
            "SELECT count(*) FROM replies r LEFT JOIN answers a ON a.id = r.answer_id "
            "WHERE a.id IS NULL"
        ).fetchone()[0]
        assert orphans == 0
    finally:
        connection.close()
    live = {kind: len(items) for kind, items in _rows(live_url, run).items()}
    assert all(counts[TABLES[kind]] <= live[kind] for kind in TABLES), (counts, live)
    # Taken during the load: some of it is in the copy, not all.
    assert 0 < sum(counts.values()) < sum(live.values()), (counts, live)
    return counts


def test_a_worker_killed_mid_load_leaves_every_acknowledged_post_whole(site, capsys):
    """SIGKILL one worker while clients post: every post answered with a redirect is in
    the database once, nothing is half-written, and the site keeps serving."""
    run = uuid.uuid4().hex[:8]
    clients, operations = 4, 80
    with servers.Gunicorn(site["env"], site["folder"], workers=2, name="killed") as server:
        jobs = _jobs(site, server.url, clients, operations, run)
        killed = {}

        def kill_one_worker():
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                posts = [row for row in server.served() if row[1] == "POST"]
                if len(posts) >= clients * operations // 3:
                    victim = server.worker_pids()[0]
                    os.kill(victim, signal.SIGKILL)
                    killed["pid"] = victim
                    return
                time.sleep(0.05)

        killer = threading.Thread(target=kill_one_worker, daemon=True)
        killer.start()
        results = _load(jobs)
        killer.join(timeout=10)
        survivors = server.worker_pids()
        after = requests.get(server.url + "/healthz", timeout=30).status_code

    assert "pid" in killed, "the load ended before a worker could be killed"
    assert killed["pid"] not in survivors and len(survivors) == 2  # gunicorn replaced it
    assert after == 200
    acknowledged = {(r["kind"], r["marker"]) for r in results if r["status"] in (302, 303)}
    failed = [r for r in results if r["status"] not in (302, 303)]
    # A request cut off by the kill fails at the connection; nothing else may fail.
    assert all(r["status"] is None for r in failed), [r for r in failed if r["status"]][:5]
    rows = _rows(site["url"], run)
    stored = _markers(rows)
    assert acknowledged <= set(stored), list(acknowledged - set(stored))[:5]
    assert all(n == 1 for n in stored.values()), {k: n for k, n in stored.items() if n > 1}
    assert set(stored) <= {(r["kind"], r["marker"]) for r in results}
    assert not _incomplete(site["url"], rows)
    if not databases.POSTGRES_URL:
        path = re.sub(r"^sqlite:///", "", site["url"])
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        finally:
            connection.close()
    with capsys.disabled():
        print(
            f"\nworker {killed['pid']} killed mid-load: {len(acknowledged)} acknowledged writes all "
            f"stored once and whole; {len(failed)} cut off ({len(stored) - len(acknowledged)} "
            "of them stored anyway, whole)"
        )
