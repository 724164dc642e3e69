"""Per-recipient signed reply addresses: reply+<user>.<notification>.<time>.<mac>@domain."""

import hashlib
import hmac
import re
import time
from base64 import b32encode
from dataclasses import dataclass

from flask import current_app

# What a reply can be about: a thread post (answered with a post in its thread) or a
# reply under an answer (answered with another reply under that answer).
REPLYABLE = {"post", "reply"}
# Notifications that invite an answer (not, say, a flag a facilitator should review).
REPLYABLE_KINDS = {"reply", "thread_post", "new_thread", "announcement", "mention"}
LOCAL_PART = re.compile(r"^reply\+(\d{1,12})\.(\d{1,12})\.([0-9a-z]{1,10})\.([a-z2-7]{20})$")


@dataclass(frozen=True)
class ReplyAddress:
    user_id: int
    notification_id: int
    issued_at: int
    digest: str  # identifies the address once used, whatever its case


def _mac(payload: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    raw = hmac.new(key, b"reply-by-mail:" + payload.encode(), hashlib.sha256).digest()
    # Base32 in lower case: mail systems may change the case of the local part.
    return b32encode(raw[:13]).decode().lower()[:20]


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def reply_address(user, notification, now: float | None = None) -> str | None:
    """The address a reply to this notification goes to, or None when replies by e-mail
    are off (no REPLY_DOMAIN) or the notification is not about a post one can answer."""
    domain = current_app.config.get("REPLY_DOMAIN")
    if (
        not domain
        or notification.target_type not in REPLYABLE
        or notification.kind not in REPLYABLE_KINDS
    ):
        return None
    stamp = _base36(int(now if now is not None else time.time()))
    payload = f"{user.id}.{notification.id}.{stamp}"
    return f"reply+{payload}.{_mac(payload)}@{domain}"


class BadAddress(Exception):
    """Not a reply address of ours, forged, or too old; the text says which, for the bounce."""


def parse(address: str, now: float | None = None) -> ReplyAddress:
    """The reply address's parts.

    :raise BadAddress: not ours, the signature does not match, or older than REPLY_MAX_AGE_DAYS.
    """
    local, _, domain = (address or "").strip().strip("<>").rpartition("@")
    expected = (current_app.config.get("REPLY_DOMAIN") or "").lower()
    if not expected or domain.lower() != expected:
        raise BadAddress("This address does not take replies.")
    match = LOCAL_PART.match(local.lower())
    if match is None:
        raise BadAddress("This is not a reply address.")
    user_id, notification_id, stamp, mac = match.groups()
    payload = f"{user_id}.{notification_id}.{stamp}"
    if not hmac.compare_digest(_mac(payload), mac):
        raise BadAddress("This reply address is not one we gave out.")
    issued = int(stamp, 36)
    max_age = int(current_app.config.get("REPLY_MAX_AGE_DAYS", 30)) * 86400
    if (now if now is not None else time.time()) - issued > max_age:
        raise BadAddress("This reply address has expired; reply on the site instead.")
    digest = hashlib.sha256(payload.encode()).hexdigest()
    return ReplyAddress(int(user_id), int(notification_id), issued, digest)
