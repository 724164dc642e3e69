"""Cookies follow the scheme: Secure and `__Host-` over HTTPS (directly or through a trusted
proxy), usable over plain HTTP, Secure always when COPROD_SECURE_COOKIES forces it."""

import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from coprod_study import create_app
from coprod_study.cli import is_loopback, served_url
from coprod_study.extensions import db
from tests import factories
from tests.conftest import CSRF_META, POSTGRES_URL
from tests.servers import cli, cli_command, environment, free_port


def _app(app_config, **settings):
    application = create_app({**app_config, **settings})
    return application


def _sign_in(client, user, remember=False, **request):
    page = client.get("/auth/login", **request).get_data(as_text=True)
    request = dict(request)
    data = {"email": user.email, "password": factories.DEFAULT_PASSWORD,
            "csrf_token": CSRF_META.search(page).group(1)}
    if remember:
        data["remember"] = "y"
    # Over HTTPS Flask-WTF also wants a same-site Referer, as a browser sends (plain HTTP
    # requests are not asked for one).
    headers = {"Referer": "https://localhost/auth/login", **request.pop("headers", {})}
    response = client.post("/auth/login", data=data, headers=headers, **request)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def _cookie(response, name: str) -> str:
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(name + "=")]
    assert found, (name, response.headers.getlist("Set-Cookie"))
    return found[0]


def _signed_in(client, **request) -> bool:
    return client.get("/account", **request).status_code == 200


def test_plain_http_gets_cookies_it_can_send_back(app, client, make_user):
    user = make_user()
    response = _sign_in(client, user, remember=True)
    session_cookie = _cookie(response, "session")
    assert "Secure" not in session_cookie
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Secure" not in _cookie(response, "remember_token")
    assert not any(c.startswith("__Host-") for c in response.headers.getlist("Set-Cookie"))
    assert _signed_in(client)


def test_https_gets_secure_host_prefixed_cookies(app, client, make_user):
    user = make_user()
    https = {"base_url": "https://localhost"}
    response = _sign_in(client, user, remember=True, **https)
    session_cookie = _cookie(response, "__Host-session")
    assert "Secure" in session_cookie and "Path=/" in session_cookie
    assert "Domain=" not in session_cookie
    assert "Secure" in _cookie(response, "remember_token")
    assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))
    assert _signed_in(client, **https)


def test_forcing_secure_cookies_makes_them_secure_over_plain_http(app_config, make_user):
    forced = _app(app_config, SESSION_COOKIE_SECURE=True)
    with forced.app_context():
        user = make_user()
        response = _sign_in(forced.test_client(), user, remember=True)
        assert "Secure" in _cookie(response, "__Host-session")
        assert "Secure" in _cookie(response, "remember_token")
        db.session.remove()


@pytest.mark.parametrize(
    ("hops", "forwarded", "secure"),
    [
        (1, "https", True),  # one trusted proxy that says the request came over HTTPS
        (0, "https", False),  # nobody is trusted: the header is the client's own word
        (1, "https, http", False),  # the client's "https", then the trusted proxy's "http"
        (2, "https, https", True),
    ],
)
def test_a_forwarded_scheme_counts_only_through_trusted_proxies(
    app_config, make_user, hops, forwarded, secure
):
    proxied = _app(app_config, PROXY_HOPS=hops)
    with proxied.app_context():
        user = make_user()
        client = proxied.test_client()
        headers = {"X-Forwarded-Proto": forwarded, "X-Forwarded-For": "203.0.113.9, 10.0.0.1"}
        response = _sign_in(client, user, headers=headers)
        name = "__Host-session" if secure else "session"
        cookie = _cookie(response, name)
        assert ("Secure" in cookie) is secure
        assert _signed_in(client, headers=headers)
        db.session.remove()


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
     ("0.0.0.0", False), ("192.168.1.20", False), ("::", False), ("example.org", False)],  # noqa: S104
)
def test_which_addresses_are_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_the_served_address_is_one_a_person_can_type():
    assert served_url("0.0.0.0", 5301) == "http://127.0.0.1:5301/"  # noqa: S104
    assert served_url("::1", 8000) == "http://[::1]:8000/"
    assert served_url("192.168.1.20", 80) == "http://192.168.1.20:80/"


# --- the default `coprod-study serve`, driven by a plain HTTP client ----------------------


def _serve(env, host="127.0.0.1", port=None):
    port = port or free_port()
    process = subprocess.Popen(  # noqa: S603 (our own command)
        [*cli_command(), "serve", "--host", host, "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited:\n{process.stdout.read()}")
        try:
            if requests.get(base + "/healthz", timeout=5).status_code == 200:
                return process, base
        except requests.RequestException:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("serve did not start")


def _stop(process) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate(timeout=10)
    return output


def _token(session, base, path):
    page = session.get(base + path, timeout=30)
    assert page.status_code == 200, (path, page.status_code)
    return CSRF_META.search(page.text).group(1)


@pytest.fixture
def serve_env(tmp_path):
    # The default settings: nothing about cookies, the scheme decides.
    env = environment(tmp_path / "instance")
    assert not any(name.startswith("COPROD_SECURE") for name in env)
    if POSTGRES_URL:
        from tests import databases

        name = databases.private_name("serve")
        env["DATABASE_URL"] = databases.create(name)
        yield env
        databases.drop(name)
    else:
        yield env


@pytest.mark.slow
def test_a_plain_http_client_registers_signs_in_and_posts_on_the_default_serve(serve_env):
    cli(serve_env, "init-db")
    process, base = _serve(serve_env)
    try:
        person = requests.Session()
        response = person.post(
            base + "/auth/register",
            data={"email": "plain@example.org", "display_name": "Plain Client",
                  "password": "a long enough passphrase", "confirm": "a long enough passphrase",
                  "csrf_token": _token(person, base, "/auth/register")},
            allow_redirects=False, timeout=30,
        )
        assert response.status_code == 302, response.text[:500]
        assert "Secure" not in response.headers["Set-Cookie"]
        response = person.post(base + "/auth/logout",
                               data={"csrf_token": _token(person, base, "/account")},
                               allow_redirects=False, timeout=30)
        assert response.status_code == 302
        assert person.get(base + "/account", allow_redirects=False, timeout=30).status_code == 302

        response = person.post(
            base + "/auth/login",
            data={"email": "plain@example.org", "password": "a long enough passphrase",
                  "csrf_token": _token(person, base, "/auth/login")},
            allow_redirects=False, timeout=30,
        )
        assert response.status_code == 302, response.text[:500]
        response = person.post(
            base + "/groups/new",
            data={"name": "Plain readers", "description": "We read in plain HTTP.",
                  "join_policy": "open", "csrf_token": _token(person, base, "/groups/new")},
            allow_redirects=False, timeout=30,
        )
        assert response.status_code == 302, response.text[:500]
        group_path = response.headers["Location"]
        group_page = person.get(base + group_path, timeout=30).text
        question_path = re.search(r'href="(/groups/[^"]+/episodes/[^"/]+)"', group_page).group(1)
        question_path += "/questions/1"
        response = person.post(
            base + question_path,
            data={"body": "An answer sent from a plain HTTP client.",
                  "csrf_token": _token(person, base, question_path)},
            allow_redirects=False, timeout=30,
        )
        assert response.status_code == 302, response.text[:500]
        assert "An answer sent from a plain HTTP client." in person.get(
            base + question_path, timeout=30).text

        # Links in e-mails point at the port the site is served on (no COPROD_BASE_URL).
        stranger = requests.Session()
        stranger.post(base + "/auth/reset", data={
            "email": "plain@example.org", "csrf_token": _token(stranger, base, "/auth/reset")},
            timeout=30)
        # serve's own queue consumer delivers it to the .eml folder a moment later.
        folder = Path(serve_env["COPROD_INSTANCE_PATH"]) / "outbox"
        deadline = time.monotonic() + 30
        while not list(folder.glob("*.eml")) and time.monotonic() < deadline:
            time.sleep(0.1)
        mail = "\n".join(p.read_text() for p in folder.glob("*.eml"))
        assert f"{base}/auth/reset/" in mail, mail[:2000]
    finally:
        output = _stop(process)
    assert "Warning: plain HTTP" not in output
    assert f"running at {base}/" in output


@pytest.mark.slow
def test_serve_on_every_address_warns_once(serve_env):
    cli(serve_env, "init-db", "--no-sample")
    port = free_port()
    process, base = _serve(serve_env, host="0.0.0.0", port=port)  # noqa: S104
    output = _stop(process)
    warnings = [line for line in output.splitlines() if line.startswith("Warning: plain HTTP")]
    assert len(warnings) == 1, output
    assert "0.0.0.0" in warnings[0]  # noqa: S104
    assert f"running at http://127.0.0.1:{port}/" in output
