"""A launch: OIDC third-party login, then the platform's signed id_token, checked claim by claim."""

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode, urlsplit

import jwt
from flask import current_app, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, select

from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.lti.service import claims as c
from coprod_study.lti.service import http, registration
from coprod_study.models import LtiContext, LtiNonce, LtiPlatform

STATE_COOKIE = "lti_state_"
STATE_LIFETIME = 600
# Clock difference allowed between the platform and this server.
LEEWAY = 60
MAX_TOKEN = 64 * 1024


class LaunchRefused(DomainError):
    """A login or launch that is not accepted; the message says why, in plain words."""


@dataclass
class Login:
    redirect_url: str
    cookie_name: str
    cookie_value: str


@dataclass
class Launch:
    platform: LtiPlatform
    claims: dict
    state: str
    role: str | None
    context: LtiContext | None

    @property
    def message_type(self) -> str:
        return self.claims.get(c.MESSAGE_TYPE, "")

    @property
    def context_claim(self) -> dict:
        value = self.claims.get(c.CONTEXT)
        return value if isinstance(value, dict) else {}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="lti-state")


def _own_url(url: str) -> bool:
    ours = urlsplit(url_for("lti.launch", _external=True))
    theirs = urlsplit(url or "")
    return (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)


def begin_login(params) -> Login:
    """Step one: the platform names itself and the person; answer with a redirect to its
    auth endpoint carrying a fresh state (bound to this browser by a cookie) and nonce.

    :raise LaunchRefused: an unknown platform, or a target that is not this tool.
    """
    issuer = (params.get("iss") or "").strip()
    login_hint = params.get("login_hint") or ""
    target = params.get("target_link_uri") or ""
    if not issuer or not login_hint:
        raise LaunchRefused(_("The LMS did not say who it is or who is signing in."))
    platform = registration.platform_for(issuer, params.get("client_id"))
    if platform is None:
        raise LaunchRefused(
            _("This LMS (%(issuer)s) is not registered here. Ask the site's admins to add it.",
              issuer=issuer[:200])
        )
    if not _own_url(target):
        raise LaunchRefused(_("The LMS asked to open an address that is not this site."))
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": url_for("lti.launch", _external=True),
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_url else "?"
    value = _serializer().dumps({"p": platform.id, "n": nonce})
    return Login(platform.auth_url + separator + urlencode(query), STATE_COOKIE + state, value)


def _state(form, cookies) -> tuple[str, dict]:
    state = form.get("state") or ""
    raw = cookies.get(STATE_COOKIE + state) if state.replace("-", "").replace("_", "").isalnum() else None
    if not raw:
        raise LaunchRefused(
            _("This launch did not start in this browser, or took too long. Open the link in "
              "your LMS again; if it keeps failing, allow cookies for this site."),
        )
    try:
        return state, _serializer().loads(raw, max_age=STATE_LIFETIME)
    except BadSignature as error:
        raise LaunchRefused(_("This launch's state is not one this site gave out.")) from error


def _decode(platform: LtiPlatform, token: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise LaunchRefused(_("The LMS sent a launch that is not a signed token.")) from error
    if header.get("alg") != "RS256":
        raise LaunchRefused(_("The launch is signed with %(alg)s; only RS256 is accepted.",
                              alg=str(header.get("alg"))[:20]))
    try:
        key = registration.platform_key(platform, header.get("kid"))
    except http.PlatformError as error:
        raise LaunchRefused(_("Could not fetch the LMS's keys: %(error)s", error=error.message)) from error
    if key is None:
        raise LaunchRefused(_("The launch is signed with a key the LMS does not publish."))
    try:
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=platform.client_id,
            issuer=platform.issuer,
            leeway=LEEWAY,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
        )
    except jwt.InvalidSignatureError as error:
        raise LaunchRefused(_("The launch's signature does not match the LMS's key.")) from error
    except jwt.ExpiredSignatureError as error:
        raise LaunchRefused(_("The launch has expired. Open the link in your LMS again.")) from error
    except jwt.InvalidAudienceError as error:
        raise LaunchRefused(_("The launch is meant for another tool (its audience is not this site's client id).")) from error
    except jwt.InvalidIssuerError as error:
        raise LaunchRefused(_("The launch comes from another LMS than the one that started it.")) from error
    except jwt.ImmatureSignatureError as error:
        raise LaunchRefused(_("The launch is dated in the future; check the LMS's clock.")) from error
    except jwt.MissingRequiredClaimError as error:
        raise LaunchRefused(_("The launch lacks the %(claim)s claim.", claim=error.claim)) from error
    except jwt.PyJWTError as error:
        raise LaunchRefused(_("The launch token could not be read.")) from error


def _check_claims(platform: LtiPlatform, claims: dict, nonce: str) -> None:
    audience = claims.get("aud")
    several = isinstance(audience, list) and len(audience) > 1
    if (several or "azp" in claims) and claims.get("azp") != platform.client_id:
        raise LaunchRefused(_("The launch names another tool as its authorized party (azp)."))
    if not secrets.compare_digest(str(claims.get("nonce")), nonce):
        raise LaunchRefused(_("The launch's nonce is not the one this browser was given."))
    used = select(LtiNonce.id).where(LtiNonce.platform_id == platform.id, LtiNonce.nonce == nonce)
    if db.session.scalar(used):
        raise LaunchRefused(_("This launch has been used already. Open the link in your LMS again."))
    if claims.get(c.VERSION) != "1.3.0":
        raise LaunchRefused(_("Only LTI 1.3 launches are accepted."))
    if claims.get(c.MESSAGE_TYPE) not in (c.RESOURCE_LINK_REQUEST, c.DEEP_LINKING_REQUEST):
        raise LaunchRefused(_("This kind of LTI message is not supported."))
    if not registration.knows_deployment(platform, claims.get(c.DEPLOYMENT_ID)):
        raise LaunchRefused(
            _("This deployment of the tool (%(id)s) is not registered here. Ask the site's "
              "admins to add its deployment id.", id=str(claims.get(c.DEPLOYMENT_ID))[:100])
        )


def validate(form, cookies) -> Launch:
    """Every check, before anything is written.

    :raise LaunchRefused: the first check that fails.
    """
    token = form.get("id_token") or ""
    state, bound = _state(form, cookies)
    if not token or len(token) > MAX_TOKEN:
        raise LaunchRefused(_("The LMS sent no launch token."))
    platform = db.session.get(LtiPlatform, bound.get("p"))
    if platform is None:
        raise LaunchRefused(_("The LMS of this launch is no longer registered here."))
    claims = _decode(platform, token)
    _check_claims(platform, claims, bound.get("n", ""))
    role = c.course_role(claims.get(c.ROLES))
    context_id = (claims.get(c.CONTEXT) or {}).get("id") if isinstance(claims.get(c.CONTEXT), dict) else None
    if not context_id:
        raise LaunchRefused(_("Open the tool from inside a course in your LMS."))
    context = db.session.scalar(
        select(LtiContext).where(
            LtiContext.platform_id == platform.id, LtiContext.context_id == str(context_id)
        )
    )
    if role is None:
        raise LaunchRefused(_("Your role in this LMS course has no place here (only instructors and learners)."))
    if context is None and role != "educator":
        raise LaunchRefused(
            _("This LMS course is not set up here yet: your instructor opens the tool first.")
        )
    if claims.get(c.MESSAGE_TYPE) == c.DEEP_LINKING_REQUEST:
        if role != "educator":
            raise LaunchRefused(_("Only instructors add links to the course."))
        settings = claims.get(c.DEEP_LINKING_SETTINGS)
        if not isinstance(settings, dict) or not settings.get("deep_link_return_url"):
            raise LaunchRefused(_("The LMS asked for a link but gave no address to send it to."))
        accepted = settings.get("accept_types")
        if isinstance(accepted, list) and "ltiResourceLink" not in accepted:
            raise LaunchRefused(_("The LMS asked for a kind of item this tool does not make (it makes LTI links)."))
    return Launch(platform, claims, state, role, context)


def spend_nonce(launch: Launch) -> None:
    """The nonce is written with the rest of the launch; the unique key refuses a replay
    that races this one."""
    now = datetime.now(UTC)
    db.session.execute(delete(LtiNonce).where(LtiNonce.expires_at < now))
    expires = datetime.fromtimestamp(int(launch.claims["exp"]), UTC) + timedelta(seconds=LEEWAY)
    db.session.add(
        LtiNonce(platform_id=launch.platform.id, nonce=str(launch.claims["nonce"]), expires_at=expires)
    )
