"""Personal access tokens: made at /account, shown once, stored as a SHA-256, revoked any time."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from coprod_study.errors import DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.models import TOKEN_SCOPES, ApiToken

TOKEN_PREFIX = "cps_"  # noqa: S105 (a marker, not a secret)
MAX_NAME = 80
MAX_ACTIVE_TOKENS = 20
# Lifetimes offered on the form, in days; 0 means the token does not expire.
LIFETIMES = {30: _l("30 days"), 90: _l("90 days"), 365: _l("1 year"), 0: _l("No expiry")}
# last_used_at is written at most this often, so reads stay reads.
TOUCH_INTERVAL = timedelta(minutes=1)


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class NewToken:
    token: ApiToken
    secret: str


def active_tokens(user) -> list[ApiToken]:
    """The person's tokens that still work or expired recently, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def create_token(user, name: str, scope: str, lifetime_days: int = 90) -> NewToken:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Give the token a name, such as the script that will use it."), "name")
    if len(name) > MAX_NAME:
        raise DomainError(_("Use at most %(max)s characters for the name.", max=MAX_NAME), "name")
    if scope not in TOKEN_SCOPES:
        raise DomainError(_("Choose what the token may do."), "scope")
    if lifetime_days not in LIFETIMES:
        raise DomainError(_("Choose one of the offered lifetimes."), "lifetime")
    count = db.session.scalar(
        select(func.count()).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if count >= MAX_ACTIVE_TOKENS:
        raise DomainError(
            _(
                "You have %(count)s tokens already; revoke one you no longer use first.",
                count=MAX_ACTIVE_TOKENS,
            )
        )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        scope=scope,
        token_hash=hash_token(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        expires_at=_now() + timedelta(days=lifetime_days) if lifetime_days else None,
    )
    db.session.add(token)
    db.session.commit()
    return NewToken(token, secret)


def revoke(user, token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = _now()
        db.session.commit()
    return token


@dataclass
class Verdict:
    token: ApiToken | None
    problem: str | None


def check(raw: str) -> Verdict:
    """The token for a bearer secret, or why it does not work."""
    if not raw or len(raw) > 200 or not raw.startswith(TOKEN_PREFIX):
        return Verdict(None, "The token is not valid.")
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(raw)))
    if token is None:
        return Verdict(None, "The token is not valid.")
    if token.revoked_at is not None:
        return Verdict(None, "The token was revoked.")
    if token.expires_at is not None and token.expires_at <= _now():
        return Verdict(None, "The token has expired.")
    if token.user.deleted_at is not None:
        return Verdict(None, "The token is not valid.")
    return Verdict(token, None)


def touch(token: ApiToken) -> None:
    """Record that the token was used (at most once a minute)."""
    now = _now()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return
    from coprod_study.database import begin_writing

    token_id = token.id
    begin_writing(db.session)
    db.session.execute(
        ApiToken.__table__.update().where(ApiToken.id == token_id).values(last_used_at=now)
    )
    db.session.commit()
