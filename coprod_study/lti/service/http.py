"""Calls to a platform's endpoints (JWKS, token, roster, grades), with timeouts and one error type."""

import requests
from flask_babel import gettext as _

from coprod_study.errors import DomainError

TIMEOUT = 15
USER_AGENT = "coprod-study LTI tool"


class PlatformError(DomainError):
    """The platform did not answer, or answered with an error; the message says which."""


def _check(response: requests.Response, url: str) -> requests.Response:
    if response.status_code >= 400:
        raise PlatformError(
            _("%(url)s answered %(status)s.", url=url, status=response.status_code)
        )
    return response


def call(method: str, url: str, **kwargs) -> requests.Response:
    """:raise PlatformError: the platform could not be reached or refused."""
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    try:
        response = requests.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
    except requests.RequestException as error:
        raise PlatformError(
            _("Could not reach %(url)s: %(error)s", url=url, error=type(error).__name__)
        ) from error
    return _check(response, url)


def get_json(url: str, **kwargs):
    response = call("GET", url, **kwargs)
    try:
        return response.json(), response
    except ValueError as error:
        raise PlatformError(_("%(url)s did not answer JSON.", url=url)) from error
