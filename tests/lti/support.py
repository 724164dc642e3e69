"""Launches through the test client, against the fake platform."""

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import requests

FORM_FIELD = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def begin(client, platform, person: str, message: str) -> tuple[str, str]:
    """The OIDC login step: (state, nonce) from the redirect to the platform."""
    response = client.get("/lti/login", query_string=platform.login_params(person, message))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return query["state"][0], query["nonce"][0]


def launch(client, platform, person: str = "instructor", message: str = "deep_link"):
    """A whole launch through the platform's real auth endpoint over HTTP."""
    response = client.get("/lti/login", query_string=platform.login_params(person, message))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = requests.get(response.headers["Location"], timeout=10)
    assert page.status_code == 200, page.text[:500]
    fields = {name: unescape(value) for name, value in FORM_FIELD.findall(page.text)}
    return client.post("/lti/launch", data=fields)


def crafted_launch(client, platform, person="instructor", message="deep_link", tamper=None,
                   key=None, kid=None, state=None):
    """A launch whose token the test signs itself, changed by `tamper(claims)`."""
    real_state, nonce = begin(client, platform, person, message)
    claims = platform.claims_for(person, message, nonce)
    if tamper:
        tamper(claims)
    token = platform.sign(claims, key=key, kid=kid)
    data = {"id_token": token, "state": real_state if state is None else state}
    return client.post("/lti/launch", data=data), data
