"""/contact and /admin/inquiries: spam guards, storing, notifying admins, replying by e-mail."""

import re
import time

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.inquiries import service as inquiries
from coprod_study.models import AuditEntry, Inquiry, Notification
from tests.conftest import login, post_form

STAMP_RE = re.compile(r'name="started" type="hidden" value="([^"]+)"')


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Inquiry))


def _old_stamp(app, seconds: int = 60) -> str:
    """A form shown `seconds` ago (as if the person took their time)."""
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=inquiries.FORM_SALT)
    return serializer.dumps(int(time.time()) - seconds)


def send(client, app, **fields):
    data = {
        "name": "Pat Public",
        "email": "Pat@Example.org",
        "subject": "A question about episode 2",
        "message": "Where can I find the transcript in Swedish?",
        "website": "",
        "started": _old_stamp(app),
    }
    data.update(fields)
    return post_form(client, "/contact", data, token_from="/contact")


def test_the_footer_links_to_the_contact_page(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/contact"' in page
    form = client.get("/contact").get_data(as_text=True)
    for label in ("Your name", "Your e-mail address", "Subject", "Message", "Leave this field empty"):
        assert f">{label}</label>" in form
    assert STAMP_RE.search(form)


def test_an_inquiry_is_stored_confirmed_and_admins_are_told(app, client, make_user, outbox):
    admin = make_user(role="admin", email="admin@example.org")
    learner = make_user()
    response = send(client, app)
    assert response.status_code == 302 and response.headers["Location"] == "/contact/sent"
    confirmation = client.get("/contact/sent").get_data(as_text=True)
    assert "Your message is sent" in confirmation and "reply to the e-mail address" in confirmation
    item = db.session.scalar(select(Inquiry))
    assert (item.name, item.email, item.status) == ("Pat Public", "pat@example.org", "new")
    notes = db.session.scalars(select(Notification)).all()
    assert [(n.user_id, n.kind) for n in notes] == [(admin.id, "inquiry")]
    assert notes[0].url == f"/admin/inquiries/{item.id}"
    assert learner.id not in [n.user_id for n in notes]
    mails = outbox()
    assert [m["To"] for m in mails] == ["admin@example.org"]
    assert "Where can I find the transcript" in mails[0].get_content()


def test_the_honeypot_thanks_the_bot_and_stores_nothing(app, client, make_user, outbox):
    make_user(role="admin")
    response = send(client, app, website="http://spam.example")
    assert response.status_code == 302
    assert count() == 0
    assert outbox() == []


def test_a_form_sent_too_quickly_is_refused_and_keeps_what_was_typed(app, client):
    page = client.get("/contact").get_data(as_text=True)
    fresh = STAMP_RE.search(page).group(1)
    response = send(client, app, started=fresh)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "sent very quickly" in body
    assert "Where can I find the transcript in Swedish?" in body
    assert 'value="A question about episode 2"' in body
    assert count() == 0


@pytest.mark.parametrize("stamp", ["", "forged.stamp.value", None])
def test_a_missing_or_forged_stamp_is_refused(app, client, stamp):
    fields = {"started": stamp} if stamp is not None else {"started": ""}
    response = send(client, app, **fields)
    assert response.status_code == 400
    assert "send it again" in response.get_data(as_text=True)
    assert count() == 0


def test_a_stamp_older_than_a_day_is_refused(app, client):
    response = send(client, app, started=_old_stamp(app, 2 * 24 * 3600))
    assert response.status_code == 400
    assert count() == 0


def test_the_rate_limit_per_address(app, client):
    for _ in range(3):
        assert send(client, app).status_code == 302
    response = send(client, app, email="PAT@example.org")
    assert response.status_code == 429
    assert "several messages" in response.get_data(as_text=True)
    assert count() == 3
    # Someone else on another network address is not affected.
    other = app.test_client()
    assert post_form(other, "/contact", {
        "name": "Sam", "email": "sam@example.org", "subject": "Hi", "message": "Hello",
        "started": _old_stamp(app)}, token_from="/contact").status_code == 302


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": ""}, "Enter your name."),
        ({"email": "not-an-address"}, "valid e-mail address"),
        ({"subject": "   "}, "Enter a subject."),
        ({"message": ""}, "Write your message."),
        ({"message": "x" * 5001}, "at most 5000"),
        ({"subject": "s" * 201}, "200"),
    ],
)
def test_bad_input_names_the_field(app, client, fields, message):
    response = send(client, app, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count() == 0


def test_a_signed_in_person_finds_their_name_and_address_filled_in(client, make_user):
    user = make_user(name="Robin Reader", email="robin@example.org")
    login(client, user)
    page = client.get("/contact").get_data(as_text=True)
    assert 'value="Robin Reader"' in page and 'value="robin@example.org"' in page


# --- The admin side ----------------------------------------------------------------------------


@pytest.fixture
def inquiry(app, client):
    send(client, app)
    return db.session.scalar(select(Inquiry))


def test_only_admins_see_inquiries(app, client, make_user, inquiry):
    login(client, make_user(role="educator"))
    assert client.get("/admin/inquiries").status_code == 403
    assert client.get(f"/admin/inquiries/{inquiry.id}").status_code == 403
    visitor = app.test_client()
    assert visitor.get("/admin/inquiries").status_code == 302


def test_admins_list_filter_reply_and_close(app, make_user, inquiry, outbox):
    admin = make_user(role="admin", name="Ada Admin")
    client = app.test_client()
    login(client, admin)
    listing = client.get("/admin/inquiries?status=new").get_data(as_text=True)
    assert "A question about episode 2" in listing and "pat@example.org" in listing
    assert "A question about episode 2" not in client.get("/admin/inquiries?status=closed").get_data(as_text=True)
    response = post_form(
        client, f"/admin/inquiries/{inquiry.id}/reply",
        {"reply": "It is on the episode page, under Transcripts."},
        token_from=f"/admin/inquiries/{inquiry.id}",
    )
    assert response.status_code == 302
    db.session.refresh(inquiry)
    assert inquiry.status == "answered" and inquiry.replied_by_id == admin.id
    sent = [m for m in outbox() if m["To"] == "pat@example.org"]
    assert len(sent) == 1
    assert sent[0]["Subject"] == "Re: A question about episode 2"
    text = sent[0].get_content()
    assert "It is on the episode page" in text and "> Where can I find the transcript" in text
    response = post_form(client, f"/admin/inquiries/{inquiry.id}/status", {"status": "closed"},
                         token_from=f"/admin/inquiries/{inquiry.id}")
    assert response.status_code == 302
    db.session.refresh(inquiry)
    assert inquiry.status == "closed"
    actions = db.session.scalars(select(AuditEntry.action)).all()
    assert {"inquiry.replied", "inquiry.status"} <= set(actions)


def test_an_empty_reply_or_unknown_status_is_refused(app, make_user, inquiry, outbox):
    client = app.test_client()
    login(client, make_user(role="admin"))
    before = len(outbox())
    response = post_form(client, f"/admin/inquiries/{inquiry.id}/reply", {"reply": ""},
                         token_from=f"/admin/inquiries/{inquiry.id}")
    assert response.status_code == 400 and "Write the reply." in response.get_data(as_text=True)
    response = post_form(client, f"/admin/inquiries/{inquiry.id}/status", {"status": "spam"},
                         token_from=f"/admin/inquiries/{inquiry.id}")
    assert response.status_code == 400
    db.session.refresh(inquiry)
    assert inquiry.status == "new" and inquiry.reply is None
    assert len(outbox()) == before
    assert client.get("/admin/inquiries/999999").status_code == 404


def test_a_reply_while_the_mail_server_is_down_is_saved_with_its_mail_queued(
    app, make_user, inquiry
):
    from coprod_study.mail import outbox
    from coprod_study.models import OutboxMessage

    client = app.test_client()
    login(client, make_user(role="admin"))
    app.config["SMTP_HOST"] = "127.0.0.1"
    app.config["SMTP_PORT"] = 9  # nothing listens there
    started = time.monotonic()
    response = post_form(client, f"/admin/inquiries/{inquiry.id}/reply", {"reply": "Hello"},
                         token_from=f"/admin/inquiries/{inquiry.id}")
    assert response.status_code == 302 and time.monotonic() - started < 5
    db.session.refresh(inquiry)
    assert inquiry.status == "answered" and inquiry.reply == "Hello"
    mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "inquiry_reply"))
    assert mail.to_address == inquiry.email and mail.status == "queued" and mail.attempts == 0
    # A worker's attempt fails and leaves it queued for later, with the error.
    assert outbox.deliver(mail.id).status == "queued"
    db.session.refresh(mail)
    assert mail.status == "queued" and mail.attempts == 1 and "Connection" in mail.last_error
