"""Operations: /metrics behind its token, what it counts, the multiprocess directory, request logs and ids."""

import io
import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from coprod_study.extensions import db
from coprod_study.jobs import jobs_for
from coprod_study.mail import outbox
from coprod_study.mail.outgoing import queue_mail
from coprod_study.ops import request_log
from tests import factories as f
from tests.conftest import _base_config, login

TOKEN = "metrics-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def app_config(database_url, tmp_path):
    return _base_config(tmp_path / "instance", database_url) | {"METRICS_TOKEN": TOKEN}


def sample(name: str, **labels) -> float:
    """This process's current value of one series (0 before it first counts)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(client) -> dict:
    """/metrics, parsed: {(sample name, sorted labels): value}."""
    response = client.get("/metrics", headers=AUTH)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    found = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for item in family.samples:
            found[(item.name, tuple(sorted(item.labels.items())))] = item.value
    return found


# --- The token ---------------------------------------------------------------------------


def test_metrics_are_not_there_without_a_configured_token(app, client):
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", headers=AUTH).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_metrics_refuse_a_missing_or_wrong_token(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "coprod_http_requests_total" not in response.get_data(as_text=True)


# --- What is counted ----------------------------------------------------------------------


def test_requests_are_counted_by_endpoint_method_and_status(client, sample_catalog):
    ok = {"endpoint": "catalog.episodes", "method": "GET", "status": "200"}
    missing = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    before_ok = sample("coprod_http_requests_total", **ok)
    before_missing = sample("coprod_http_requests_total", **missing)
    before_latency = sample("coprod_http_request_duration_seconds_count", **ok)
    for _ in range(2):
        assert client.get("/episodes").status_code == 200
    assert client.get("/no-such-page-at-all").status_code == 404
    assert sample("coprod_http_requests_total", **ok) == before_ok + 2
    assert sample("coprod_http_requests_total", **missing) == before_missing + 1
    assert sample("coprod_http_request_duration_seconds_count", **ok) == before_latency + 2
    # And /metrics shows the same figures.
    shown = scraped(client)
    assert shown[("coprod_http_requests_total", tuple(sorted(ok.items())))] == before_ok + 2


def test_statements_per_request_are_what_the_request_ran(app, client, count_queries,
                                                         sample_catalog):
    labels = {"endpoint": "catalog.episodes"}
    client.get("/episodes")
    before_sum = sample("coprod_db_statements_per_request_sum", **labels)
    before_count = sample("coprod_db_statements_per_request_count", **labels)
    with count_queries() as statements:
        assert client.get("/episodes?order=1").status_code == 200
    assert len(statements) > 0
    assert sample("coprod_db_statements_per_request_count", **labels) == before_count + 1
    assert sample("coprod_db_statements_per_request_sum", **labels) == before_sum + len(
        statements)


def test_kept_page_hits_and_misses_are_counted(client, sample_catalog):
    hit = {"cache": "page", "result": "hit"}
    miss = {"cache": "page", "result": "miss"}
    before_hit, before_miss = sample("coprod_cache_lookups_total", **hit), sample(
        "coprod_cache_lookups_total", **miss)
    path = "/episodes?metrics-test=1"
    client.get(path)  # built and kept
    client.get(path)  # served kept
    assert sample("coprod_cache_lookups_total", **miss) == before_miss + 1
    assert sample("coprod_cache_lookups_total", **hit) == before_hit + 1


def test_rendered_post_lookups_are_counted(app, client, sample_catalog):
    facilitator = f.make_user(role="facilitator")
    group = f.make_group(facilitator)
    member = f.add_member(group)
    episode, question = f.first_question(group)
    f.make_answer(group, member, question, body="Counted in the fragment cache")
    login(client, facilitator)
    path = f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    before = sum(sample("coprod_cache_lookups_total", cache="fragment", result=result)
                 for result in ("hit", "miss"))
    assert "Counted in the fragment cache" in client.get(path).get_data(as_text=True)
    after = sum(sample("coprod_cache_lookups_total", cache="fragment", result=result)
                for result in ("hit", "miss"))
    assert after > before


def test_queue_depth_and_the_outbox_are_read_where_they_live(app, client):
    jobs_for(app).huey.flush()
    queue_mail("someone@example.org", "Counted", "A message.", kind="test")
    db.session.commit()  # enqueues one delivery (no consumer runs here)
    shown = scraped(client)
    assert shown[("coprod_task_queue_depth", (("kind", "pending"),))] == 1
    assert shown[("coprod_task_queue_up", ())] == 1
    counts = outbox.counts()
    assert counts["queued"] == 1
    for status, count in counts.items():
        assert shown[("coprod_mail_messages", (("status", status),))] == count


def test_task_failures_are_counted_by_task(tmp_path, database_url):
    from coprod_study import create_app

    app = create_app(_base_config(tmp_path / "immediate", database_url) | {
        "QUEUE_IMMEDIATE": True})
    huey = jobs_for(app).huey

    @huey.task(name="metrics_test_boom")
    def boom():
        raise ValueError("meant to fail")

    @huey.task(name="metrics_test_fine")
    def fine():
        return 1

    before = sample("coprod_task_failures_total", task="metrics_test_boom")
    before_done = sample("coprod_tasks_completed_total", task="metrics_test_fine")
    with app.app_context():
        boom()
        fine()
    assert sample("coprod_task_failures_total", task="metrics_test_boom") == before + 1
    assert sample("coprod_tasks_completed_total", task="metrics_test_fine") == before_done + 1


# --- Several processes ---------------------------------------------------------------------

_WORKER = textwrap.dedent("""
    import sys
    from coprod_study import create_app
    config = {"TESTING": True, "INSTANCE_PATH": sys.argv[1], "SQLALCHEMY_DATABASE_URI": sys.argv[2],
              "SECRET_KEY": "x", "METRICS_TOKEN": "t", "REQUEST_LOG": False}
    client = create_app(config).test_client()
    for _ in range(int(sys.argv[3])):
        assert client.get("/healthz").status_code == 200
    if sys.argv[4] == "scrape":
        print(client.get("/metrics", headers={"Authorization": "Bearer t"}).get_data(as_text=True))
""")


def test_with_a_multiprocess_directory_metrics_add_up_every_process(app, tmp_path, database_url):
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR=str(folder))

    def run(count: int, then: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", _WORKER, str(tmp_path / f"i{count}"), database_url,
             str(count), then],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return result.stdout

    run(2, "-")
    run(3, "-")
    text = run(1, "scrape")  # a third process answers the scrape
    assert list(folder.glob("*.db")), "the processes wrote no figures"
    values = {}
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == "coprod_http_requests_total":
                values[item.labels["endpoint"]] = item.value
    assert values["catalog.healthz"] == 6


# --- Request logs and ids ------------------------------------------------------------------


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(request_log.JsonFormatter())
    logger = logging.getLogger(request_log.LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def test_each_request_writes_one_json_line_with_its_id(client, log_lines, count_queries,
                                                       sample_catalog):
    with count_queries() as statements:
        response = client.get("/episodes")
    [line] = log_lines()
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert len(line["request_id"]) == 32
    assert line | {"time": None, "duration_ms": None, "request_id": None} == {
        "time": None, "level": "INFO", "logger": request_log.LOGGER_NAME, "message": "request",
        "request_id": None, "method": "GET", "endpoint": "catalog.episodes",
        "path": "/episodes", "status": 200, "duration_ms": None, "statements": len(statements),
        "user_id": None, "remote_addr": "127.0.0.1",
    }
    assert line["duration_ms"] > 0


def test_a_safe_incoming_request_id_is_kept(client, log_lines):
    response = client.get("/healthz", headers={"X-Request-ID": "proxy-7f3a.01_b"})
    assert response.headers["X-Request-ID"] == "proxy-7f3a.01_b"
    assert log_lines()[0]["request_id"] == "proxy-7f3a.01_b"


@pytest.mark.parametrize("sent", [
    "two words", "id;Set-Cookie=x", "a" * 129, "../../etc", "<script>", "-leading-dash", "ä-umlaut",
    "",
])
def test_an_unsafe_incoming_request_id_is_replaced(client, log_lines, sent):
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    given = response.headers["X-Request-ID"]
    assert given != sent
    assert len(given) == 32 and all(c in "0123456789abcdef" for c in given)
    assert log_lines()[0]["request_id"] == given


def test_the_log_names_the_signed_in_person_and_the_status(client, log_lines):
    person = f.make_user()
    login(client, person)
    client.get("/no-such-page-at-all")
    line = log_lines()[-1]
    assert (line["user_id"], line["status"], line["endpoint"]) == (person.id, 404, "unmatched")


def test_request_logs_can_be_turned_off(app, client, log_lines):
    app.config["REQUEST_LOG"] = False
    response = client.get("/healthz")
    assert log_lines() == []
    assert response.headers["X-Request-ID"]


@pytest.mark.slow
def test_gunicorn_workers_add_up_in_the_multiprocess_directory(tmp_path, database_url):
    """Two gunicorn workers answer; whichever serves /metrics reports the requests of both
    (the folder is emptied first: a stale figure left there is not counted)."""
    import requests

    from tests import servers

    if not database_url.startswith("sqlite"):
        pytest.skip("the SQLite test database is a file a server can open; enough to show it")
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_12345.db").write_bytes(b"stale figures of an earlier run")
    env = servers.environment(
        tmp_path / "instance", database_url, METRICS_TOKEN=TOKEN, COPROD_REQUEST_LOG="0",
        PROMETHEUS_MULTIPROC_DIR=str(folder),
    )
    with servers.Gunicorn(env, tmp_path, workers=2, name="metrics",
                          options=("-c", "python:coprod_study.gunicorn_conf")) as server:
        from concurrent.futures import ThreadPoolExecutor

        before = len(server.served())
        # Four at a time, so that both workers take some; on a busy machine one worker
        # may take a whole batch, so batches go on (up to ten) until both have served.
        workers = set()
        for _ in range(10):
            with ThreadPoolExecutor(4) as pool:
                statuses = list(pool.map(
                    lambda _: requests.get(server.url + "/healthz", timeout=30).status_code,
                    range(40)))
            assert statuses == [200] * 40
            workers = {pid for pid, *_ in server.served()[before:]}
            if len(workers) == 2:
                break
        text = requests.get(server.url + "/metrics", headers=AUTH, timeout=30).text
        healthz = sum(
            1 for _, method, path, status in server.served() if path == "/healthz"
        )
    assert len(workers) == 2, "both workers should have served (one alone proves nothing)"
    counted = 0.0
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == "coprod_http_requests_total" and item.labels[
                    "endpoint"] == "catalog.healthz":
                counted += item.value
    # Every /healthz either worker served (the start-up checks too), counted once.
    assert counted == healthz
