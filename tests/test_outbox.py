"""The outbox: mail written with its change, delivered by a task once, retried with backoff."""

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.mail import outbox as outbox_service
from coprod_study.mail.outgoing import PENDING_KEY, queue_mail
from coprod_study.models import OutboxMessage
from tests import factories as f
from tests.conftest import login, post_form
from tests.smtp_sink import SmtpSink


def _rows():
    db.session.expire_all()
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def _use_smtp(app, port):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, SMTP_TIMEOUT=5)


def _ask_for_reset(client, address):
    return post_form(client, "/auth/reset", {"email": address}, token_from="/auth/reset")


def test_a_request_never_talks_to_smtp_and_the_mail_arrives_once_the_server_is_up(app, client):
    user = f.make_user(email="ada@example.org")
    sink = SmtpSink()  # not started yet: nothing listens on its port
    _use_smtp(app, sink.port)
    app.config["OUTBOX_RETRY_SECONDS"] = 0
    started = time.monotonic()
    assert _ask_for_reset(client, user.email).status_code == 200
    assert time.monotonic() - started < 2
    [row] = _rows()
    assert (row.kind, row.status, row.to_address, row.attempts) == ("reset", "queued", user.email, 0)
    # The server is down: two attempts fail, each leaving the error and a later try.
    for attempt in (1, 2):
        assert outbox_service.deliver(row.id).status == "queued"
        [row] = _rows()
        assert row.attempts == attempt and "ConnectionRefusedError" in row.last_error
    with sink:
        assert outbox_service.deliver_due() == 1
        assert outbox_service.deliver_due() == 0
        assert outbox_service.deliver(row.id).status == "skipped"
    assert len(sink.messages) == 1
    [row] = _rows()
    assert row.status == "sent" and row.sent_at is not None and row.last_error is None
    # The Message-ID was fixed when the row was written; the server got that one.
    assert sink.messages[0]["Message-ID"] == row.message_id
    assert "/auth/reset/" in sink.messages[0].get_content()


def test_backoff_doubles_up_to_an_hour(app):
    app.config["OUTBOX_RETRY_SECONDS"] = 30
    assert [outbox_service.backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert outbox_service.backoff(20) == 3600


def test_a_retry_waits_for_its_time_then_gives_up_after_the_last_attempt(app):
    app.config.update(OUTBOX_RETRY_SECONDS=60, OUTBOX_MAX_ATTEMPTS=3)
    with SmtpSink() as sink:
        sink.refuse_rcpt = True
        _use_smtp(app, sink.port)
        row = queue_mail("someone@example.org", "Hello", "Text", kind="test")
        db.session.commit()
        outcome = outbox_service.deliver(row.id)
        assert outcome.status == "queued" and outcome.retry_in == 60
        [row] = _rows()
        assert "RCPT TO refused: 550" in row.last_error
        assert row.next_attempt_at > datetime.now(UTC) + timedelta(seconds=50)
        # Not due yet: a worker that gets the task early leaves it alone.
        assert outbox_service.deliver(row.id).status == "skipped" and outbox_service.due_ids() == []
        for _ in range(2):
            db.session.execute(
                OutboxMessage.__table__.update().values(next_attempt_at=datetime.now(UTC))
            )
            db.session.commit()
            last = outbox_service.deliver(row.id)
        assert last.status == "failed"
        [row] = _rows()
        assert row.status == "failed" and row.attempts == 3 and "550" in row.last_error
        assert sink.messages == []


def _left_by_a_dead_worker(status: str) -> OutboxMessage:
    row = queue_mail("ann@example.org", "About your post", "Text", kind="test")
    row.status, row.attempts = status, 1
    row.lease_until = datetime.now(UTC) - timedelta(seconds=1)
    db.session.commit()
    return row


def test_a_worker_that_died_before_the_hand_over_is_retried_and_sent_once(app):
    with SmtpSink() as sink:
        _use_smtp(app, sink.port)
        row = _left_by_a_dead_worker("sending")
        assert outbox_service.deliver_due() == 1
        assert outbox_service.deliver_due() == 0
    assert [m["Message-ID"] for m in sink.messages] == [row.message_id]


def test_a_worker_that_died_while_the_server_took_the_message_never_sends_it_again(app):
    with SmtpSink() as sink:
        _use_smtp(app, sink.port)
        row = _left_by_a_dead_worker("handing_over")
        assert outbox_service.deliver_due() == 0
        [row] = _rows()
        assert row.status == "failed" and row.last_error == outbox_service.INTERRUPTED
        assert outbox_service.deliver_due() == 0
    assert sink.messages == []


def test_a_lease_still_running_is_left_to_its_worker(app):
    row = _left_by_a_dead_worker("sending")
    row.lease_until = datetime.now(UTC) + timedelta(minutes=1)
    db.session.commit()
    assert outbox_service.recover_stale() == 0 and outbox_service.deliver_due() == 0
    assert _rows()[0].status == "sending"


def test_without_smtp_each_message_is_one_eml_file_however_often_it_is_tried(app, outbox):
    row = queue_mail("bo@example.org", "Hej", "Text", kind="test")
    db.session.commit()
    assert outbox_service.deliver(row.id).status == "sent"
    assert outbox_service.deliver(row.id).status == "skipped"
    # A worker that died after writing the file: found again, not written twice.
    db.session.execute(
        OutboxMessage.__table__.update().values(
            status="handing_over", lease_until=datetime.now(UTC) - timedelta(seconds=1)
        )
    )
    db.session.commit()
    assert outbox_service.recover_stale() == 1
    assert _rows()[0].status == "sent"
    mails = outbox()
    assert [m["Message-ID"] for m in mails] == [row.message_id]


def test_a_rolled_back_change_leaves_no_mail_and_nothing_to_enqueue(app):
    queue_mail("cy@example.org", "Never", "Text", kind="test")
    assert db.session.info.get(PENDING_KEY)
    db.session.rollback()
    assert PENDING_KEY not in db.session.info
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_the_commit_enqueues_a_delivery_task(app):
    from coprod_study.jobs import jobs_for

    huey = jobs_for(app).huey
    before = huey.pending_count()
    queue_mail("di@example.org", "Hello", "Text", kind="test")
    db.session.commit()
    assert huey.pending_count() == before + 1
    [task] = huey.pending()[before:]
    assert task.name == "deliver_mail" and task.args == (_rows()[0].id,)


class TestImmediateMode:
    """huey's immediate mode, for the task bodies only: the task runs at enqueue time."""

    @pytest.fixture
    def app_config(self, app_config):
        return app_config | {"QUEUE_IMMEDIATE": True}

    def test_the_delivery_task_runs_after_the_commit(self, app, client):
        user = f.make_user(email="eve@example.org")
        _ask_for_reset(client, user.email)
        [row] = _rows()
        assert row.status == "sent"
        files = list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
        assert [p.name for p in files] == [outbox_service.eml_path(row).name]

    def test_a_failed_attempt_schedules_the_next_one(self, app):
        from coprod_study.jobs import jobs_for

        _use_smtp(app, SmtpSink().port)  # nothing listens
        queue_mail("fay@example.org", "Hello", "Text", kind="test")
        db.session.commit()
        [row] = _rows()
        assert row.status == "queued" and row.attempts == 1
        scheduled = jobs_for(app).huey.scheduled()
        assert [(t.name, t.args) for t in scheduled] == [("deliver_mail", (row.id,))]

    def test_digests_and_reminders_are_periodic_tasks(self, app):
        from coprod_study.jobs import jobs_for, tasks

        jobs = jobs_for(app)
        periodic = {t.name for t in jobs.huey._registry.periodic_tasks}
        assert {"send_digests", "send_reminders", "sweep_outbox"} <= periodic
        assert tasks.DIGEST_SCHEDULE(datetime(2026, 12, 3, 9, 7))
        assert tasks.REMINDER_SCHEDULE(datetime(2026, 12, 3, 9, 10))
        assert not tasks.REMINDER_SCHEDULE(datetime(2026, 12, 3, 9, 7))


def test_the_default_queue_is_sqlite_in_the_instance_and_redis_with_redis_url(app, tmp_path):
    from huey import RedisHuey, SqliteHuey

    from coprod_study import create_app
    from coprod_study.jobs import jobs_for

    huey = jobs_for(app).huey
    assert isinstance(huey, SqliteHuey)
    assert huey.storage.filename == str(Path(app.instance_path) / "queue.sqlite3")
    other = create_app(
        {"TESTING": True, "INSTANCE_PATH": str(tmp_path / "other"), "SECRET_KEY": "x",
         "SQLALCHEMY_DATABASE_URI": "sqlite://", "REDIS_URL": "redis://127.0.0.1:6379/15"}
    )
    assert isinstance(jobs_for(other).huey, RedisHuey)


# --- admin page and health ---------------------------------------------------


def test_the_admin_outbox_shows_each_state_and_retries_a_failed_message(app, client):
    admin = f.make_user(role="admin")
    sent = queue_mail("ok@example.org", "Went out", "Text", kind="test")
    failed = queue_mail("bad@example.org", "Did not", "Text", kind="test")
    db.session.commit()
    outbox_service.deliver(sent.id)
    failed.status, failed.attempts, failed.last_error = "failed", 8, "RCPT TO refused: 550 nobody"
    db.session.commit()
    login(client, admin)
    page = client.get("/admin/outbox").get_data(as_text=True)
    assert "Went out" in page and "Did not" in page and "RCPT TO refused: 550 nobody" in page
    assert "No queue worker has reported in yet" in page
    only_failed = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "Did not" in only_failed and "Went out" not in only_failed
    response = post_form(client, f"/admin/outbox/{failed.id}/retry", token_from="/admin/outbox")
    assert response.status_code == 302
    db.session.expire_all()
    assert (failed.status, failed.attempts) == ("queued", 0)
    # A sent message is not sent again; the page says so.
    response = post_form(client, f"/admin/outbox/{sent.id}/retry", token_from="/admin/outbox",
                         follow_redirects=True)
    assert "This message was sent already." in response.get_data(as_text=True)
    db.session.expire_all()
    assert sent.status == "sent"
    assert post_form(client, "/admin/outbox/999999/retry", token_from="/admin/outbox").status_code == 404


def test_healthz_reports_whether_a_consumer_ran_in_the_last_minute(app, client):
    from coprod_study.jobs import HEARTBEAT_KEY, jobs_for

    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["queue"]["status"] == "no consumer seen"
    assert client.get("/healthz?queue=1").status_code == 503
    jobs = jobs_for(app)
    jobs.huey.put(HEARTBEAT_KEY, time.time() - 90)
    assert client.get("/healthz").get_json()["queue"]["status"] == "stale"
    jobs.beat()
    body = client.get("/healthz?queue=1")
    assert body.status_code == 200 and body.get_json()["queue"]["status"] == "ok"


def test_deleting_an_account_removes_the_mail_to_its_address(app, client):
    from coprod_study.account import personal_data

    leaving = f.make_user(email="leaving@example.org")
    staying = f.make_user(email="staying@example.org")
    for person in (leaving, staying):
        _ask_for_reset(client, person.email)
    personal_data.delete_account(leaving, f.DEFAULT_PASSWORD)
    assert [row.to_address for row in _rows()] == ["staying@example.org"]


def test_delivering_what_is_due_goes_on_past_one_batch(app, monkeypatch):
    monkeypatch.setattr(outbox_service, "DUE_BATCH", 2)
    for number in range(5):
        queue_mail(f"reader{number}@example.org", "Hello", "Text", kind="reset")
    db.session.commit()
    assert outbox_service.deliver_due() == 5
    assert {row.status for row in _rows()} == {"sent"}
    assert len(list(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))) == 5
