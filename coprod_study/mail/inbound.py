"""A reply by e-mail becomes a reply or thread post, as its sender, through the web form's services."""

import email
import re
from dataclasses import dataclass
from email.policy import default as default_policy
from email.utils import getaddresses

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from coprod_study import policy
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.mail import addresses
from coprod_study.models import Notification, Post, Reply, UsedReplyAddress, User


@dataclass
class Result:
    accepted: bool
    reason: str
    target: object = None  # the Post or Reply written


class Refused(Exception):
    """The bounce's text (plain English: SMTP replies and MTAs carry ASCII)."""


QUOTE_HEADER = re.compile(
    r"^(on\b.{0,300}\bwrote:|den\b.{0,300}\bskrev\b.{0,300}:|-{3,}\s*original message\s*-{3,}|_{10,})\s*$",
    re.IGNORECASE,
)
HEADER_BLOCK = re.compile(r"^(from|från|sent|skickat|to|till|subject|ämne):\s", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """The new text of a reply: before the quoted message, without '>' lines or signature."""
    kept: list[str] = []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        bare = line.strip()
        if line.rstrip() in ("--", "-- "):
            break  # the signature delimiter
        joined = f"{bare} {lines[index + 1].strip()}" if index + 1 < len(lines) else bare
        if QUOTE_HEADER.match(bare) or (bare.lower().startswith(("on ", "den ")) and QUOTE_HEADER.match(joined)):
            break
        if HEADER_BLOCK.match(bare) and index and not lines[index - 1].strip():
            break  # an Outlook-style quoted header block
        if bare.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _text_body(message) -> str:
    """:raise Refused: attachments, HTML only, or text that is not in its declared charset."""
    plain = []
    for part in message.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        if part.get_content_disposition() == "attachment" or part.get_filename():
            raise Refused("Attachments are not accepted; send the text of your reply only.")
        if content_type == "text/plain":
            plain.append(part)
        elif content_type != "text/html":
            raise Refused(f"Parts of type {content_type} are not accepted; send plain text only.")
    if not plain:
        raise Refused(
            "The message has no plain-text part (HTML only). Send it as plain text, or reply on the site."
        )
    payload = plain[0].get_payload(decode=True) or b""
    charset = plain[0].get_content_charset() or "utf-8"
    try:
        return payload.decode(charset)
    except (LookupError, UnicodeDecodeError) as error:
        raise Refused(
            f"The text is not valid {charset}; send it as UTF-8 text, or reply on the site."
        ) from error


def _reply_address(message, recipients) -> addresses.ReplyAddress:
    candidates = list(recipients or [])
    if not candidates:
        # Piped from an MTA: the envelope recipient is in one of these headers.
        for header in ("Delivered-To", "X-Original-To", "To", "Cc"):
            candidates += [address for _, address in getaddresses(message.get_all(header, []))]
    domain = (current_app.config.get("REPLY_DOMAIN") or "").lower()
    ours = [c for c in candidates if c.lower().endswith("@" + domain) and domain]
    if not ours:
        raise Refused("No reply address of this site among the recipients.")
    try:
        return addresses.parse(ours[0])
    except addresses.BadAddress as error:
        raise Refused(str(error)) from error


def _sender_matches(message, user: User) -> bool:
    senders = [address.lower() for _, address in getaddresses(message.get_all("From", []))]
    return senders == [user.email.lower()]


def _write(user: User, notification: Notification, body: str):
    """Through the same services as the web forms: membership, locks, limits, Markdown."""
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import answers

    if notification.target_type == "post":
        post = db.session.get(Post, notification.target_id)
        if post is None or post.deleted_at is not None or not policy.can_read_post(user, post):
            raise Refused("You can no longer see this thread, so the reply was not posted.")
        return discussion.reply(user, post.thread, body)
    reply = db.session.get(Reply, notification.target_id)
    answer = reply.answer if reply is not None else None
    if answer is None or not answers.can_read_answer(user, answer):
        raise Refused("You can no longer see this answer, so the reply was not posted.")
    return answers.post_reply(user, answer, body)


def receive(raw: bytes, recipients=None) -> Result:
    """Read one inbound message and post it, or say why not (nothing is written then)."""
    try:
        target = _receive(raw, recipients)
    except Refused as error:
        db.session.rollback()
        return Result(False, str(error))
    return Result(True, "Posted.", target)


def _receive(raw: bytes, recipients):
    limit = int(current_app.config.get("MAIL_IN_MAX_BYTES", 1024 * 1024))
    if len(raw) > limit:
        raise Refused(f"The message is larger than {limit // 1024} KB; send a shorter reply.")
    message = email.message_from_bytes(raw, policy=default_policy)
    address = _reply_address(message, recipients)
    if db.session.scalar(select(UsedReplyAddress.id).where(UsedReplyAddress.digest == address.digest)):
        raise Refused("This reply address was used already; reply on the site instead.")
    user = db.session.get(User, address.user_id)
    notification = db.session.get(Notification, address.notification_id)
    if (
        user is None
        or user.deleted_at is not None
        or notification is None
        or notification.user_id != user.id
        or notification.target_type not in addresses.REPLYABLE
        or notification.kind not in addresses.REPLYABLE_KINDS
    ):
        raise Refused("The post this address belongs to is gone, or you can no longer see it.")
    if not _sender_matches(message, user):
        raise Refused("The reply did not come from the address of the account it was sent to.")
    body = strip_quoted(_text_body(message))
    if not body:
        raise Refused("The reply has no text of its own (only quoted text or a signature).")
    # Written by the service's own commit, so the address is spent only with the post.
    db.session.add(UsedReplyAddress(digest=address.digest, user_id=user.id))
    try:
        with force_locale("en"):
            return _write(user, notification, body)
    except DomainError as error:
        raise Refused(error.message) from error
    except IntegrityError as error:
        raise Refused("This reply address was used already; reply on the site instead.") from error
