"""The notifications page, read marks, digests and unsubscribe links."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.models import DigestRun, Notification
from coprod_study.notifications import digests
from coprod_study.notifications import service as notifications
from tests import factories as f
from tests.conftest import login, post_form


def add_notes(user, number, group=None):
    notifications.notify(
        [user.id] * 1, "reply", "first", "/groups", group=group
    )
    for index in range(number - 1):
        notifications.notify([user.id], "mention", f"note {index}", "/groups", group=group)
    db.session.commit()


def test_notify_is_one_insert_for_many_recipients(app, count_queries):
    people = [f.make_user() for _ in range(25)]
    with count_queries() as statements:
        added = notifications.notify([p.id for p in people], "new_thread", "hello", "/", exclude=[people[0].id])
        db.session.commit()
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert added == 24 and len(inserts) == 1


def test_page_lists_newest_first_with_unread_count_and_marks_read(client):
    user = f.make_user()
    add_notes(user, 3)
    login(client, user)
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("note 1") < page.index("note 0") < page.index("first")
    assert '<span class="nav-count">3' in page
    first = db.session.scalar(select(Notification).where(Notification.message == "first"))
    response = post_form(client, f"/notifications/{first.id}/read", {"open": "1"})
    assert response.headers["Location"] == "/groups"
    assert '<span class="nav-count">2' in client.get("/notifications").get_data(as_text=True)
    post_form(client, "/notifications/read-all")
    assert "nav-count" not in client.get("/notifications").get_data(as_text=True)


def test_cannot_read_someone_elses_notification(client):
    owner, other = f.make_user(), f.make_user()
    add_notes(owner, 1)
    note = db.session.scalar(select(Notification))
    login(client, other)
    assert post_form(client, f"/notifications/{note.id}/read").status_code == 404
    db.session.expire_all()
    assert note.read_at is None


def test_notifications_page_query_count_is_constant(client, count_queries):
    user = f.make_user()
    login(client, user)
    add_notes(user, 2)

    def measure():
        with count_queries() as statements:
            client.get("/notifications")
        return len(statements)

    small = measure()
    add_notes(user, 80)
    assert measure() == small


@pytest.mark.parametrize("preference", ["immediately", "daily", "weekly"])
def test_digest_is_sent_once(app, outbox, preference):
    group = f.make_group(name="Digest group")
    user = f.make_user(email_preference=preference)
    add_notes(user, 3, group=group)
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
    assert digests.send_digests(now) == 1
    assert digests.send_digests(now) == 0
    mails = outbox()
    assert len(mails) == 1
    message = mails[0]
    assert message["To"] == user.email
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/email/unsubscribe/" in message["List-Unsubscribe"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Digest group" in text and "note 1" in text and "Digest group" in html


def test_digest_skips_people_with_email_off_and_read_notifications(app, outbox):
    off = f.make_user(email_preference="off")
    reader = f.make_user(email_preference="daily")
    add_notes(off, 2)
    add_notes(reader, 1)
    notifications.mark_read(reader)
    assert digests.send_digests() == 0
    assert outbox() == []


def test_daily_digest_waits_for_the_next_day(app, outbox):
    user = f.make_user(email_preference="daily")
    add_notes(user, 1)
    digests.send_digests(datetime(2026, 11, 26, 8, 0, tzinfo=UTC))
    add_notes(user, 1)
    assert digests.send_digests(datetime(2026, 11, 26, 20, 0, tzinfo=UTC)) == 0
    assert digests.send_digests(datetime(2026, 11, 27, 8, 0, tzinfo=UTC)) == 1
    assert db.session.scalar(select(func.count()).select_from(DigestRun)) == 2


def test_the_digest_goes_to_the_outbox_with_its_claim_and_only_once(app, outbox):
    from coprod_study.models import OutboxMessage

    user = f.make_user(email_preference="immediately")
    add_notes(user, 2)
    assert digests.send_digests() == 1
    # Claimed and queued in one transaction: the row is there, nothing was delivered yet.
    queued = db.session.scalars(select(OutboxMessage)).all()
    assert [(m.kind, m.status, m.to_address) for m in queued] == [("digest", "queued", user.email)]
    assert digests.send_digests() == 0
    assert len(outbox()) == 1
    assert len(outbox()) == 1


def test_unsubscribe_link_works_without_login_and_forgery_changes_nothing(client, app):
    user = f.make_user(email_preference="daily")
    token = digests.unsubscribe_token(user)
    page = client.get(f"/email/unsubscribe/{token}").get_data(as_text=True)
    assert "Stop e-mails" in page
    forged = client.post(f"/email/unsubscribe/{token[:-2]}xx")
    assert forged.status_code == 400 and "not valid" in forged.get_data(as_text=True)
    db.session.expire_all()
    assert user.email_preference == "daily"
    # RFC 8058 one-click: a bare POST from the mail client.
    response = client.post(f"/email/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert user.email_preference == "off"


def test_send_digests_command(app, outbox):
    user = f.make_user(email_preference="immediately")
    add_notes(user, 1)
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code == 0 and "Queued 1 e-mail; delivered 1" in result.output
    assert len(outbox()) == 1
