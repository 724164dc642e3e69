"""Real consumers on the real queue: embedded threads, `coprod-study worker` processes, kills."""

import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.jobs import consumer, jobs_for
from coprod_study.models import DigestRun, Notification, OutboxMessage
from coprod_study.notifications import service as notifications
from tests import factories as f
from tests.conftest import post_form
from tests.servers import cli_command, environment
from tests.smtp_sink import SmtpSink, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def app_config(app_config):
    return app_config | {
        "SMTP_STARTTLS": False,
        "SMTP_TIMEOUT": 5,
        "OUTBOX_RETRY_SECONDS": 1,
        "OUTBOX_LEASE_SECONDS": 2,
        "QUEUE_HEARTBEAT_SECONDS": 1,
    }


def _row():
    """The newest outbox row as plain values. Never holds a transaction open while a
    test waits: outside a request each SQLite transaction takes the write lock."""
    from types import SimpleNamespace

    db.session.rollback()
    row = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc())).first()
    values = None
    if row is not None:
        values = SimpleNamespace(
            **{c.name: getattr(row, c.name) for c in OutboxMessage.__table__.columns}
        )
    db.session.rollback()
    return values


@pytest.fixture
def running(app):
    """Consumer threads in this process, as `serve` runs them; stopped after the test."""
    started = []

    def start(workers=2):
        started.append(consumer.start(app, workers))
        return started[-1]

    yield start
    for item in started:
        item.stop(timeout=5)


def test_smtp_down_then_up_the_page_answers_at_once_and_the_mail_arrives_once(
    app, client, running
):
    user = f.make_user(email="ada@example.org")
    sink = SmtpSink()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
    running()
    started = time.monotonic()
    response = post_form(client, "/auth/reset", {"email": user.email}, token_from="/auth/reset")
    assert response.status_code == 200 and time.monotonic() - started < 1.5
    # The worker tries, fails (nothing listens) and backs off: 1 s, then 2 s.
    wait_for(lambda: (_row().attempts >= 2), what="two failed attempts")
    row = _row()
    assert row.status in ("queued", "sending") and "Connection" in row.last_error
    with sink:
        wait_for(lambda: sink.messages, timeout=30, what="the mail to arrive")
        wait_for(lambda: _row().status == "sent", what="the row to say sent")
        time.sleep(2.5)  # more heartbeats and sweeps: nothing goes again
    assert len(sink.messages) == 1
    assert sink.messages[0]["Message-ID"] == _row().message_id


def test_the_heartbeat_shows_on_healthz_while_a_consumer_runs(app, client, running):
    assert client.get("/healthz?queue=1").status_code == 503
    queue = running(workers=1)
    wait_for(lambda: client.get("/healthz?queue=1").status_code == 200, what="a heartbeat")
    queue.stop(timeout=5)
    assert client.get("/healthz").get_json()["queue"]["last_seen_seconds"] < 60


def _worker(app, sink, **settings):
    env = environment(
        Path(app.instance_path),
        app.config["SQLALCHEMY_DATABASE_URI"],
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=sink.port,
        SMTP_STARTTLS="0",
        SMTP_TIMEOUT=5,
        COPROD_OUTBOX_LEASE_SECONDS=2,
        COPROD_OUTBOX_RETRY_SECONDS=1,
        COPROD_QUEUE_HEARTBEAT_SECONDS=1,
        **settings,
    )
    env["SECRET_KEY"] = app.config["SECRET_KEY"]
    return subprocess.Popen(
        [*cli_command(), "worker", "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _stop(process, kill=False):
    if process.poll() is None:
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        return process.communicate(timeout=20)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()[0]


def _queue_a_mail(app):
    from coprod_study.mail.outgoing import queue_mail

    row_id = queue_mail("ann@example.org", "About your post", "Text", kind="test").id
    db.session.commit()
    # Read nothing after the commit: a lazy load would open a transaction (and on
    # SQLite take the write lock) for as long as the test then waits.
    return row_id


def test_a_worker_killed_before_the_hand_over_is_replaced_and_the_mail_arrives_once(app):
    with SmtpSink() as sink:
        sink.stall_rcpt.set()
        first = _worker(app, sink)
        try:
            _queue_a_mail(app)
            assert sink.rcpt_seen.wait(30), "the worker never reached the SMTP server"
            assert _row().status == "sending", _row().last_error
        finally:
            output = _stop(first, kill=True)
        sink.stall_rcpt.clear()
        second = _worker(app, sink)
        try:
            wait_for(lambda: _row().status == "sent", timeout=30, what="delivery by the second worker")
            time.sleep(2)
        finally:
            output += _stop(second)
    assert len(sink.messages) == 1, output
    assert sink.messages[0]["Message-ID"] == _row().message_id


def test_a_worker_killed_after_the_server_took_the_message_never_sends_it_again(app):
    with SmtpSink() as sink:
        sink.stall_after_data.set()
        first = _worker(app, sink)
        try:
            _queue_a_mail(app)
            assert sink.data_seen.wait(30), "the worker never sent the message"
            assert _row().status == "handing_over"
        finally:
            output = _stop(first, kill=True)
        sink.stall_after_data.clear()
        second = _worker(app, sink)
        try:
            wait_for(lambda: _row().status == "failed", timeout=30, what="the row to be given up")
            time.sleep(2)
        finally:
            output += _stop(second)
    assert len(sink.messages) == 1, output
    assert "may have arrived" in _row().last_error


def test_two_consumers_running_the_digests_at_once_send_each_person_one_mail(app, running):
    people = [f.make_user(email_preference="immediately") for _ in range(6)]
    for person in people:
        notifications.notify([person.id], "announcement", "Something new", "/")
    db.session.commit()
    with SmtpSink() as sink:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        running(workers=3)
        running(workers=3)
        digests = jobs_for(app).task("send_digests")
        for _ in range(12):
            digests()
        wait_for(lambda: len(sink.messages) >= len(people), timeout=30, what="the digests")
        time.sleep(2)
    assert sorted(m["To"] for m in sink.messages) == sorted(p.email for p in people)
    db.session.rollback()
    assert len(db.session.scalars(select(DigestRun)).all()) == len(people)
    assert not db.session.scalars(
        select(Notification).where(Notification.emailed_at.is_(None))
    ).all()


def test_two_consumers_running_the_reminders_at_once_remind_once(app, running):
    from datetime import timedelta

    from coprod_study.catalog import service as catalog
    from coprod_study.models import ReminderSent

    catalog.load_file(catalog.sample_catalog_path())
    educator = f.make_user(role="educator")
    course = f.make_course(educator)
    learners = [f.enrol(course, f.make_user(email_preference="immediately")) for _ in range(3)]
    f.make_assignment(course, opens_in=timedelta(days=-1), due_in=timedelta(hours=24))
    with SmtpSink() as sink:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port)
        running(workers=3)
        running(workers=3)
        reminders = jobs_for(app).task("send_reminders")
        for _ in range(8):
            reminders()
        wait_for(lambda: len(sink.messages) >= len(learners), timeout=30, what="the reminders")
        time.sleep(2)
    db.session.rollback()
    assert sorted(m["To"] for m in sink.messages) == sorted(p.email for p in learners)
    assert len(db.session.scalars(select(ReminderSent)).all()) == len(learners)


def test_serve_runs_the_consumer_in_its_own_process_and_stops_it(app, tmp_path):
    """`coprod-study serve` alone delivers mail: the consumer threads run inside it."""
    import requests

    from tests.servers import free_port

    port = free_port()
    with SmtpSink() as sink:
        env = environment(
            Path(app.instance_path),
            app.config["SQLALCHEMY_DATABASE_URI"],
            SMTP_HOST="127.0.0.1", SMTP_PORT=sink.port, SMTP_STARTTLS="0",
            COPROD_QUEUE_HEARTBEAT_SECONDS=1,
        )
        env["SECRET_KEY"] = app.config["SECRET_KEY"]
        server = subprocess.Popen(
            [*cli_command(), "serve", "--port", str(port)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            wait_for(lambda: _healthy(requests, port), timeout=60, what="serve to answer")
            _queue_a_mail(app)
            wait_for(lambda: sink.messages, timeout=30, what="serve's consumer to deliver")
        finally:
            server.send_signal(signal.SIGINT)
            output = server.communicate(timeout=30)[0]
    assert server.returncode in (0, -signal.SIGINT), output
    assert len(sink.messages) == 1


def _healthy(requests, port):
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz?queue=1", timeout=2).status_code == 200
    except requests.RequestException:
        return False
