"""Platforms an admin registers, the tool's own signing keys, and what an LMS admin pastes."""

import json
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from coprod_study import audit
from coprod_study.errors import Conflict, DomainError
from coprod_study.extensions import db
from coprod_study.lti.service import http
from coprod_study.models import LtiDeployment, LtiPlatform, LtiToolKey

# A retired key stays published this long, so a platform that cached it can still
# check what it signed (deep-link responses, token requests) during the change.
RETIRED_KEY_KEPT = timedelta(days=7)
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1"}
PLATFORM_URL_FIELDS = ("auth_url", "token_url", "jwks_url")


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- Platforms ---------------------------------------------------------------------


def platforms() -> list[LtiPlatform]:
    return list(db.session.scalars(select(LtiPlatform).order_by(LtiPlatform.name, LtiPlatform.id)))


def _check_url(value: str, field: str, required: bool = True) -> str:
    value = (value or "").strip()
    if not value and not required:
        return ""
    parts = urlsplit(value)
    # Plain http only on this machine (a platform under test); everything else https.
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
    )
    if not value or not parts.hostname or not secure or len(value) > 2000:
        raise DomainError(_("Enter an https:// address."), field=field)
    return value


def _check_text(value: str, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(_("This field is required."), field=field)
    if len(value) > limit:
        raise DomainError(_("At most %(limit)s characters.", limit=limit), field=field)
    return value


def _deployment_ids(text: str) -> list[str]:
    ids = []
    for line in (text or "").replace(",", "\n").splitlines():
        line = line.strip()
        if line and line not in ids:
            if len(line) > 255:
                raise DomainError(_("A deployment id has at most 255 characters."), field="deployment_ids")
            ids.append(line)
    if not ids:
        raise DomainError(_("Enter at least one deployment id."), field="deployment_ids")
    return ids


def _origins(text: str) -> str:
    origins = []
    for item in (text or "").split():
        parts = urlsplit(_check_url(item, "frame_origins"))
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return " ".join(dict.fromkeys(origins))


def save_platform(actor, platform: LtiPlatform | None, values: dict) -> LtiPlatform:
    """Create (platform None) or update a registration.

    :raise DomainError: a field is missing or not an https address; `field` names it.
    :raise Conflict: another registration has this issuer and client id.
    """
    cleaned = {
        "name": _check_text(values.get("name"), "name", 120),
        "issuer": _check_url(values.get("issuer"), "issuer"),
        "client_id": _check_text(values.get("client_id"), "client_id", 255),
        "frame_origins": _origins(values.get("frame_origins", "")),
    }
    for field in PLATFORM_URL_FIELDS:
        cleaned[field] = _check_url(values.get(field), field)
    deployment_ids = _deployment_ids(values.get("deployment_ids", ""))
    taken = select(LtiPlatform.id).where(
        LtiPlatform.issuer == cleaned["issuer"], LtiPlatform.client_id == cleaned["client_id"]
    )
    if platform is not None:
        taken = taken.where(LtiPlatform.id != platform.id)
    if db.session.scalar(taken):
        raise Conflict(_("Another registration has this issuer and client id."), "client_id")
    if platform is None:
        platform = LtiPlatform()
        db.session.add(platform)
    if platform.jwks_url != cleaned["jwks_url"]:
        platform.jwks_json = None  # keys of another address are no use
    for name, value in cleaned.items():
        setattr(platform, name, value)
    kept = {d.deployment_id: d for d in platform.deployments}
    platform.deployments = [kept.get(i) or LtiDeployment(deployment_id=i) for i in deployment_ids]
    try:
        db.session.flush()
        audit.record(actor, "lti.platform_saved", target=platform, details={"issuer": platform.issuer})
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(
            _("Another registration has this issuer and client id."), "client_id"
        ) from error
    ensure_key()
    return platform


def delete_platform(actor, platform: LtiPlatform) -> None:
    audit.record(actor, "lti.platform_deleted", details={"issuer": platform.issuer})
    db.session.delete(platform)
    db.session.commit()


def platform_for(issuer: str, client_id: str | None) -> LtiPlatform | None:
    stmt = select(LtiPlatform).where(LtiPlatform.issuer == issuer)
    if client_id:
        stmt = stmt.where(LtiPlatform.client_id == client_id)
    found = list(db.session.scalars(stmt.limit(2)))
    return found[0] if len(found) == 1 else None


def knows_deployment(platform: LtiPlatform, deployment_id: str | None) -> bool:
    return bool(deployment_id) and any(
        d.deployment_id == deployment_id for d in platform.deployments
    )


def frame_origins() -> list[str]:
    """Origins whose pages may frame the tool: every registered platform's."""
    origins = []
    for issuer, auth_url, extra in db.session.execute(
        select(LtiPlatform.issuer, LtiPlatform.auth_url, LtiPlatform.frame_origins)
    ):
        for url in (issuer, auth_url, *extra.split()):
            parts = urlsplit(url)
            if parts.scheme in ("http", "https") and parts.netloc:
                origins.append(f"{parts.scheme}://{parts.netloc}")
    return list(dict.fromkeys(origins))


# --- The platform's keys -------------------------------------------------------------


def _fetch_jwks(platform: LtiPlatform) -> dict:
    data, _response = http.get_json(platform.jwks_url)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise http.PlatformError(_("%(url)s is not a JWKS.", url=platform.jwks_url))
    # Kept on the row; committed only with a launch that succeeds (a refused one writes nothing).
    platform.jwks_json = json.dumps(data)
    platform.jwks_fetched_at = utcnow()
    return data


def _find_key(jwks: dict, kid: str | None):
    for entry in jwks.get("keys", []):
        if isinstance(entry, dict) and entry.get("kid") == kid and entry.get("kty") == "RSA":
            try:
                return jwt.PyJWK(entry, algorithm="RS256").key
            except jwt.PyJWTError:
                return None
    return None


def platform_key(platform: LtiPlatform, kid: str | None):
    """The platform's public key named `kid`, from the cached JWKS, fetched again when
    the kid is not in it (the platform rotated its keys). None when still not found.

    :raise PlatformError: the JWKS could not be fetched.
    """
    if platform.jwks_json:
        key = _find_key(json.loads(platform.jwks_json), kid)
        if key is not None:
            return key
    return _find_key(_fetch_jwks(platform), kid)


# --- The tool's keys ------------------------------------------------------------------


def _new_key() -> LtiToolKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = secrets.token_urlsafe(16)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, alg="RS256", use="sig")
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return LtiToolKey(kid=kid, private_pem=pem, public_jwk=public)


def active_key() -> LtiToolKey | None:
    return db.session.scalar(
        select(LtiToolKey)
        .where(LtiToolKey.retired_at.is_(None))
        .order_by(LtiToolKey.created_at.desc(), LtiToolKey.id.desc())
        .limit(1)
    )


def ensure_key() -> LtiToolKey:
    key = active_key()
    if key is None:
        key = _new_key()
        db.session.add(key)
        db.session.commit()
    return key


def rotate_key(actor) -> LtiToolKey:
    """A new signing key; the old one is retired but stays published for a week."""
    now = utcnow()
    for old in db.session.scalars(select(LtiToolKey).where(LtiToolKey.retired_at.is_(None))):
        old.retired_at = now
    db.session.execute(delete(LtiToolKey).where(LtiToolKey.retired_at < now - RETIRED_KEY_KEPT))
    key = _new_key()
    db.session.add(key)
    db.session.flush()
    audit.record(actor, "lti.key_rotated", details={"kid": key.kid})
    db.session.commit()
    return key


def published_keys() -> list[LtiToolKey]:
    cutoff = utcnow() - RETIRED_KEY_KEPT
    return list(
        db.session.scalars(
            select(LtiToolKey)
            .where(LtiToolKey.retired_at.is_(None) | (LtiToolKey.retired_at > cutoff))
            .order_by(LtiToolKey.created_at.desc(), LtiToolKey.id.desc())
        )
    )


def jwks() -> dict:
    return {"keys": [key.public_jwk for key in published_keys()]}


def sign(claims: dict) -> str:
    """A JWT signed with the tool's active key (made on first use)."""
    key = ensure_key()
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid})


# --- What the LMS admin pastes ------------------------------------------------------------


def tool_urls() -> dict[str, str]:
    return {
        "login": url_for("lti.login", _external=True),
        "launch": url_for("lti.launch", _external=True),
        "jwks": url_for("lti.jwks", _external=True),
        "deep_link": url_for("lti.launch", _external=True),
    }


def canvas_configuration() -> dict:
    """Canvas's "Paste JSON" developer key configuration."""
    urls = tool_urls()
    domain = urlsplit(urls["launch"]).hostname
    return {
        "title": "Coproduction Study Companion",
        "description": _("Study the podcast on coproduction of health care in your course."),
        "oidc_initiation_url": urls["login"],
        "target_link_uri": urls["launch"],
        "public_jwk_url": urls["jwks"],
        "scopes": [
            "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
            "https://purl.imsglobal.org/spec/lti-ags/scope/score",
            "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
        ],
        "extensions": [
            {
                "domain": domain,
                "platform": "canvas.instructure.com",
                "privacy_level": "public",
                "settings": {
                    "placements": [
                        {
                            "placement": "assignment_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls["deep_link"],
                        },
                        {
                            "placement": "link_selection",
                            "message_type": "LtiDeepLinkingRequest",
                            "target_link_uri": urls["deep_link"],
                        },
                        {
                            "placement": "course_navigation",
                            "message_type": "LtiResourceLinkRequest",
                            "target_link_uri": urls["launch"],
                        },
                    ]
                },
            }
        ],
        "custom_fields": {},
    }
