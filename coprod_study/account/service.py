"""Accounts: registration, sign-in checks, passwords, resets, profiles and roles."""

import hashlib
import zoneinfo
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from coprod_study import audit
from coprod_study.errors import Conflict, DomainError, Forbidden
from coprod_study.extensions import db
from coprod_study.i18n import language_of
from coprod_study.mail.outgoing import queue_mail
from coprod_study.models import EMAIL_PREFERENCES, LANGUAGES, ROLES, User
from coprod_study.urls import path_for

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 200
MAX_DISPLAY_NAME = 80
RESET_SALT = "password-reset"

# A stored hash to compare against when the e-mail is unknown, so that a
# failed sign-in takes the same time whether or not the account exists.
_DUMMY_HASH = generate_password_hash("not-a-real-password-0000", method="scrypt")


def normalize_email(raw: str) -> str:
    """Lower-case, trimmed, IDNA-normalized e-mail; raises DomainError when invalid."""
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        # The library's own wording is English only and says "email"; ours is translated.
        if "@" not in (raw or ""):
            message = _("Enter a valid e-mail address: it needs an @, as in name@example.org.")
        else:
            message = _("Enter a valid e-mail address, such as name@example.org.")
        raise DomainError(message, field="email") from error
    return result.normalized.lower()


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("coprod_study").joinpath("data/common_passwords.txt").read_text()
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(min)s characters.", min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("Use at most %(max)s characters.", max=MAX_PASSWORD_LENGTH)
    if password.lower() in common_passwords() or len(set(password)) < 3:
        return _("This password is too common; choose one that is harder to guess.")
    return None


def check_password_rules(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise DomainError(problem, field=field)


def clean_display_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("Enter a display name."), field="display_name")
    if len(name) > MAX_DISPLAY_NAME:
        raise DomainError(
            _("Use at most %(max)s characters for your name.", max=MAX_DISPLAY_NAME), field="display_name"
        )
    return name


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def find_by_email(email: str) -> User | None:
    try:
        normalized = normalize_email(email)
    except DomainError:
        return None
    return db.session.scalar(select(User).where(User.email == normalized))


def register(email: str, display_name: str, password: str) -> User:
    normalized = normalize_email(email)
    name = clean_display_name(display_name)
    check_password_rules(password)
    if db.session.scalar(select(User.id).where(User.email == normalized)):
        raise Conflict(_("An account with this e-mail address already exists."), field="email")
    user = User(email=normalized, display_name=name, password_hash=hash_password(password))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as error:
        # Two sign-ups with one address at the same moment: the second loses.
        db.session.rollback()
        raise Conflict(
            _("An account with this e-mail address already exists."), field="email"
        ) from error
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_by_email(email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    return user


def record_login(user: User) -> None:
    user.last_login_at = datetime.now(UTC)
    db.session.commit()


def end_all_sessions(user: User) -> None:
    """Invalidate every cookie of this account, wherever it is."""
    user.session_version += 1
    db.session.commit()


def change_password(user: User, current: str, new: str) -> None:
    if not check_password_hash(user.password_hash, current):
        raise DomainError(_("Your current password is not right."), field="current_password")
    check_password_rules(new, field="new_password")
    user.password_hash = hash_password(new)
    user.session_version += 1
    db.session.commit()


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def _password_fingerprint(user: User) -> str:
    # Part of the token: once the password changes the token no longer matches,
    # so a reset link works once.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"uid": user.id, "pw": _password_fingerprint(user)})


def user_for_reset_token(token: str) -> User | None:
    try:
        data = _reset_serializer().loads(
            token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"]
        )
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("uid")) if isinstance(data.get("uid"), int) else None
    if user is None or data.get("pw") != _password_fingerprint(user):
        return None
    return user


def send_reset_link(email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way."""
    user = find_by_email(email)
    if user is None:
        return
    link = current_app.config["BASE_URL"].rstrip("/") + path_for(
        "auth.reset_with_token", token=make_reset_token(user)
    )
    site_name = current_app.config["SITE_NAME"]
    with force_locale(language_of(user)):
        subject = _("Reset your password for %(site)s", site=site_name)
        text = render_template("email/reset.txt", user=user, link=link, site_name=site_name)
    queue_mail(user.email, subject, text, kind="reset")
    db.session.commit()


def reset_password(user: User, new: str) -> None:
    check_password_rules(new)
    user.password_hash = hash_password(new)
    user.session_version += 1
    db.session.commit()


@cache
def time_zone_names() -> tuple[str, ...]:
    """The IANA time zones this machine knows, sorted. Read once per process: listing
    them walks the zone database on disk, which took half of the account page."""
    return tuple(sorted(zoneinfo.available_timezones()))


@cache
def _time_zone_set() -> frozenset[str]:
    return frozenset(time_zone_names())


def valid_time_zone(name: str) -> bool:
    return name in _time_zone_set()


# Abbreviations people type that are not zone names themselves; each is taken as the
# zone most people who write it mean (CET, EST, GMT and UTC are zone names already).
TIME_ZONE_ALIASES = {
    "CEST": "Europe/Paris",
    "BST": "Europe/London",
    "IST": "Asia/Kolkata",
    "JST": "Asia/Tokyo",
    "EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MDT": "America/Denver",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
    "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney",
    "Z": "UTC",
}


@cache
def _time_zone_lookup() -> tuple[dict[str, str], dict[str, str]]:
    """Zone names by their folded form, and by their folded last part ("stockholm")
    when only one zone ends in it."""
    by_name = {_fold_zone(name): name for name in time_zone_names()}
    by_place: dict[str, list[str]] = {}
    for name in time_zone_names():
        if "/" in name:
            by_place.setdefault(_fold_zone(name.rsplit("/", 1)[1]), []).append(name)
    # "Posix/..." and "right/..." copies of the database are not what anyone means.
    unique = {}
    for place, names in by_place.items():
        names = [n for n in names if not n.startswith(("posix/", "right/", "Etc/"))]
        if len(names) == 1:
            unique[place] = names[0]
    return by_name, unique


def _fold_zone(text: str) -> str:
    return "_".join(text.split()).casefold()


def resolve_time_zone(text: str | None) -> str | None:
    """The IANA zone meant by what someone typed: its name in any case, with spaces
    for underscores ("america/new york"), a city alone when only one zone has it
    ("Stockholm"), or a common abbreviation ("PST"); None when nothing fits."""
    text = (text or "").strip()
    if not text or len(text) > 64:
        return None
    if valid_time_zone(text):
        return text
    by_name, by_place = _time_zone_lookup()
    folded = _fold_zone(text)
    alias = TIME_ZONE_ALIASES.get(text.upper())
    return by_name.get(folded) or alias or by_place.get(folded)


def update_profile(
    user: User, *, display_name: str, language: str, time_zone: str, email_preference: str
) -> None:
    name = clean_display_name(display_name)
    if language not in LANGUAGES:
        raise DomainError(_("Choose one of the offered languages."), field="language")
    zone_name = resolve_time_zone(time_zone)
    if zone_name is None:
        raise DomainError(
            _(
                "“%(typed)s” is not a time zone this site knows. Choose one from the list, "
                "or type a city such as Stockholm or a name such as Europe/Stockholm.",
                typed=(time_zone or "").strip()[:64],
            ),
            field="time_zone",
        )
    time_zone = zone_name
    if email_preference not in EMAIL_PREFERENCES:
        raise DomainError(_("Choose one of the offered e-mail settings."), field="email_preference")
    user.display_name = name
    user.language = language
    user.time_zone = time_zone
    user.email_preference = email_preference
    db.session.commit()


def set_role(actor: User | None, subject: User, new_role: str) -> bool:
    """Change a site role and audit it. `actor` None means the shell. Returns changed?"""
    from coprod_study import policy

    if new_role not in ROLES:
        raise DomainError(_("Unknown role %(role)s; choose one of %(roles)s.", role=repr(new_role), roles=', '.join(ROLES)))
    if subject.deleted_at is not None:
        raise Conflict(_("This is a deleted account; it has no role to change."))
    if actor is not None and not policy.can_change_role(actor, subject, new_role):
        raise Forbidden(_("You may not change this role."))
    old_role = subject.role
    if old_role == new_role:
        return False
    subject.role = new_role
    audit.record(
        actor,
        "user.role_changed",
        subject=subject,
        target=subject,
        details={"from": old_role, "to": new_role},
    )
    db.session.commit()
    return True


def deleted_account_count() -> int:
    return db.session.scalar(select(func.count()).where(User.deleted_at.is_not(None))) or 0


def search_users(query: str | None):
    """The accounts that are still in use, by name or e-mail; deleted ones are left out
    (their name and address are gone and they hold no role)."""
    stmt = select(User).where(User.deleted_at.is_(None)).order_by(User.display_name, User.id)
    if query:
        escaped = query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                func.lower(User.display_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    return stmt
