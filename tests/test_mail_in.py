"""Reply by e-mail: signed Reply-To addresses, `mail-in` over SMTP and on standard input."""

import smtplib
import subprocess
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import func, select

from coprod_study.discussion import service as discussion
from coprod_study.extensions import db
from coprod_study.groups import answers
from coprod_study.mail import addresses, inbound, server
from coprod_study.models import Notification, Post, Reply, UsedReplyAddress
from coprod_study.notifications import digests
from tests import factories as f
from tests.servers import cli_command, environment, free_port

DOMAIN = "replies.example.org"


@pytest.fixture
def app_config(app_config):
    return app_config | {"REPLY_DOMAIN": DOMAIN}


@pytest.fixture
def thread_world(app):
    """A group whose facilitator started a thread; the member wants e-mail at once."""
    facilitator = f.make_user(name="Fran Facilitator")
    group = f.make_group(facilitator, name="Mail group")
    member = f.add_member(group, f.make_user(name="Mo Member", email_preference="immediately"))
    thread = discussion.create_thread(facilitator, group, title="Week one", body="What struck you?")
    notification = db.session.scalar(
        select(Notification).where(Notification.user_id == member.id)
    )
    return {"group": group, "member": member, "thread": thread, "notification": notification,
            "facilitator": facilitator}


def _reply_to(world, outbox) -> str:
    digests.send_digests()
    [mail] = [m for m in outbox() if m["To"] == world["member"].email]
    return mail["Reply-To"]


def _mail(to: str, sender: str, text: str | None = "Thanks, this helped.\n", **extra) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Re: Week one"
    if text is not None:
        message.set_content(text)
    for name, value in extra.items():
        message[name] = value
    return message


def _posts(thread) -> int:
    return db.session.scalar(select(func.count()).select_from(Post).where(Post.thread_id == thread.id))


def _nothing_written(thread, before: int) -> None:
    db.session.rollback()
    assert _posts(thread) == before
    assert db.session.scalar(select(func.count()).select_from(UsedReplyAddress)) == 0


@pytest.fixture
def mail_in(app):
    """`coprod-study mail-in`'s SMTP server on a free port; a function that sends to it."""
    port = free_port()
    running = server.controller(app, "127.0.0.1", port)
    running.start()

    def send(message, recipients=None):
        # End this test's transaction: on SQLite it holds the write lock the server needs.
        db.session.commit()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            smtp.send_message(message, to_addrs=recipients)

    yield send
    running.stop()


def test_a_notification_about_a_post_carries_a_signed_reply_address(app, thread_world, outbox):
    address = _reply_to(thread_world, outbox)
    assert address.startswith("reply+") and address.endswith("@" + DOMAIN)
    parsed = addresses.parse(address)
    assert (parsed.user_id, parsed.notification_id) == (
        thread_world["member"].id, thread_world["notification"].id
    )
    assert len(address.partition("@")[0]) <= 64  # RFC 5321's limit for a local part


def test_a_digest_of_several_notifications_has_no_reply_address(app, thread_world, outbox):
    discussion.create_thread(thread_world["facilitator"], thread_world["group"], title="Week two",
                             body="And now?")
    digests.send_digests()
    [mail] = [m for m in outbox() if m["To"] == thread_world["member"].email]
    assert mail["Reply-To"] is None


def test_a_reply_over_smtp_becomes_a_post_by_the_recipient_without_quote_or_signature(
    app, thread_world, outbox, mail_in
):
    address = _reply_to(thread_world, outbox)
    text = (
        "I noticed the **same** thing <script>alert(1)</script> in our clinic.\n\n"
        "On Tue, 1 Dec 2026 at 10:00, Coproduction Study Companion wrote:\n"
        "> What struck you?\n> more quoted text\n\n-- \nMo, sent from my phone\n"
    )
    mail_in(_mail(address, thread_world["member"].email, text))
    db.session.rollback()
    post = db.session.scalars(
        select(Post).where(Post.thread_id == thread_world["thread"].id).order_by(Post.id.desc())
    ).first()
    assert post.user_id == thread_world["member"].id
    assert post.body == "I noticed the **same** thing <script>alert(1)</script> in our clinic."
    assert "<strong>same</strong>" in post.body_html and "<script>" not in post.body_html
    # The address works once.
    before = _posts(thread_world["thread"])
    with pytest.raises(smtplib.SMTPDataError) as refused:
        mail_in(_mail(address, thread_world["member"].email, "Again"))
    assert refused.value.smtp_code == 550 and b"used already" in refused.value.smtp_error
    db.session.rollback()
    assert _posts(thread_world["thread"]) == before


def test_a_reply_to_a_reply_under_an_answer_becomes_a_reply_there(app, sample_catalog, mail_in):
    owner = f.make_user(name="Ann Owner")
    group = f.make_group(owner, name="Answer group", post_first=False)
    writer = f.add_member(group, f.make_user(name="Wes Writer"))
    _, question = f.first_question(group)
    answer = f.make_answer(group, owner, question, body="My answer")
    answers.post_reply(writer, answer, "A reply to you")
    notification = db.session.scalar(select(Notification).where(Notification.user_id == owner.id))
    address = addresses.reply_address(owner, notification)
    mail_in(_mail(address, owner.email, "Thank you, Wes.\n\n> A reply to you\n"))
    db.session.rollback()
    newest = db.session.scalars(select(Reply).order_by(Reply.id.desc())).first()
    assert (newest.answer_id, newest.user_id, newest.body) == (answer.id, owner.id, "Thank you, Wes.")


@pytest.mark.parametrize(
    "case",
    ["forged", "expired", "wrong sender", "html only", "attachment", "not utf-8", "only quoted",
     "removed from the group", "locked thread", "post limit"],
)
def test_bad_replies_bounce_with_a_reason_and_write_nothing(app, thread_world, outbox, mail_in, case):
    address = _reply_to(thread_world, outbox)
    member = thread_world["member"]
    message = _mail(address, member.email)
    expected = {
        "forged": b"not one we gave out",
        "expired": b"expired",
        "wrong sender": b"did not come from the address",
        "html only": b"no plain-text part",
        "attachment": b"Attachments are not accepted",
        "not utf-8": b"not valid utf-8",
        "only quoted": b"no text of its own",
        "removed from the group": b"no longer see",
        "locked thread": b"locked",
        "post limit": b"posting very fast",
    }[case]
    if case == "forged":
        local, _, domain = address.partition("@")
        message.replace_header("To", f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}")
    elif case == "expired":
        old = addresses.reply_address(member, thread_world["notification"], now=1_000_000_000)
        message.replace_header("To", old)
    elif case == "wrong sender":
        message.replace_header("From", "someone.else@example.org")
    elif case == "html only":
        message = _mail(address, member.email, text=None)
        message.set_content("<p>Hello</p>", subtype="html")
    elif case == "attachment":
        message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    elif case == "not utf-8":
        message = _mail(address, member.email, text=None)
        message.set_content(b"caf\xe9 au lait\n", maintype="text", subtype="plain", cte="8bit")
    elif case == "only quoted":
        message = _mail(address, member.email, "> What struck you?\n\n-- \nMo\n")
    elif case == "removed from the group":
        from coprod_study.groups import service as groups

        groups.remove_member(thread_world["facilitator"], thread_world["group"], member.id)
    elif case == "post limit":
        app.config["POST_LIMIT"] = "1/minute"
        discussion.reply(member, thread_world["thread"], "Posted on the site a moment ago.")
    elif case == "locked thread":
        discussion.set_flags(thread_world["facilitator"], thread_world["thread"], locked=True)
        db.session.commit()
    before = _posts(thread_world["thread"])
    with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPRecipientsRefused)) as refused:
        mail_in(message, recipients=[message["To"]])
    error = refused.value
    text = error.smtp_error if isinstance(error, smtplib.SMTPDataError) else str(error.recipients).encode()
    assert expected.lower() in text.lower()
    _nothing_written(thread_world["thread"], before)


def test_a_message_for_another_domain_is_refused_at_rcpt(app, mail_in):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        mail_in(_mail("someone@elsewhere.example", "a@example.org"))


def test_a_huge_message_is_refused_before_it_is_read(app, thread_world, outbox):
    app.config["MAIL_IN_MAX_BYTES"] = 10_000
    address = _reply_to(thread_world, outbox)
    before = _posts(thread_world["thread"])
    result = inbound.receive(bytes(_mail(address, thread_world["member"].email, "x" * 20_000)))
    assert not result.accepted and "larger than" in result.reason
    _nothing_written(thread_world["thread"], before)


def test_the_smtp_server_refuses_a_message_over_its_size_limit(app, thread_world, outbox):
    app.config["MAIL_IN_MAX_BYTES"] = 10_000
    port = free_port()
    running = server.controller(app, "127.0.0.1", port)
    running.start()
    try:
        address = _reply_to(thread_world, outbox)
        message = _mail(address, thread_world["member"].email, "x" * 20_000)
        db.session.commit()
        with pytest.raises(smtplib.SMTPException) as refused, smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(message)
        assert "552" in str(refused.value) or "size" in str(refused.value).lower()
    finally:
        running.stop()


def test_quoted_text_in_other_shapes_is_stripped():
    assert inbound.strip_quoted("Yes.\n\nDen 1 dec. 2026 skrev Sajten:\n> Fråga\n") == "Yes."
    assert inbound.strip_quoted(
        "Agreed.\n\n-----Original Message-----\nFrom: Site\nWhat struck you?"
    ) == "Agreed."
    assert inbound.strip_quoted("Good point.\n\nFrom: Site <no-reply@x>\nSent: Monday\n") == "Good point."
    assert inbound.strip_quoted(
        "Two lines\nof text.\n\nOn Tue, 1 Dec 2026 at 10:00, Someone With A Long Name <\nx@y> wrote:\n> q"
    ) == "Two lines\nof text."


def _stdin(app, message: bytes):
    env = environment(Path(app.instance_path), app.config["SQLALCHEMY_DATABASE_URI"],
                      COPROD_REPLY_DOMAIN=DOMAIN)
    env["SECRET_KEY"] = app.config["SECRET_KEY"]
    return subprocess.run([*cli_command(), "mail-in", "--stdin"], input=message, env=env,
                          capture_output=True, timeout=120, check=False)


@pytest.mark.slow
def test_mail_in_reads_a_message_piped_on_standard_input(app, thread_world, outbox):
    address = _reply_to(thread_world, outbox)
    message = _mail(address, thread_world["member"].email, "Piped from the MTA.\n")
    message["Delivered-To"] = address
    before = _posts(thread_world["thread"])
    db.session.commit()
    done = _stdin(app, bytes(message))
    assert done.returncode == 0, done.stderr
    db.session.rollback()
    assert _posts(thread_world["thread"]) == before + 1
    db.session.commit()
    again = _stdin(app, bytes(message))
    assert again.returncode == 67 and b"used already" in again.stderr
    db.session.rollback()
    assert _posts(thread_world["thread"]) == before + 1


def test_only_notifications_that_invite_an_answer_get_a_reply_address(app, thread_world):
    notification = thread_world["notification"]
    assert addresses.reply_address(thread_world["member"], notification)
    notification.kind = "flag"
    assert addresses.reply_address(thread_world["member"], notification) is None
    notification.kind, notification.target_type = "reply", "inquiry"
    assert addresses.reply_address(thread_world["member"], notification) is None
    app.config["REPLY_DOMAIN"] = None
    notification.target_type = "post"
    assert addresses.reply_address(thread_world["member"], notification) is None
