"""The platform's services, called with an OAuth2 token got by a signed client assertion."""

import secrets
import time

from flask_babel import gettext as _

from coprod_study.lti.service import http, registration
from coprod_study.models import LtiPlatform

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def access_token(platform: LtiPlatform, scopes: list[str]) -> str:
    """:raise PlatformError: the token endpoint refused or could not be reached."""
    now = int(time.time())
    assertion = registration.sign({
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.token_url,
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(16),
    })
    response = http.call("POST", platform.token_url, data={
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        "scope": " ".join(scopes),
    })
    try:
        token = response.json().get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not token:
        raise http.PlatformError(_("The LMS's token endpoint gave no access token."))
    return str(token)


def bearer(token: str, accept: str | None = None, content_type: str | None = None) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    if accept:
        headers["Accept"] = accept
    if content_type:
        headers["Content-Type"] = content_type
    return headers
