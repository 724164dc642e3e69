"""Sessions: replayed, forged and tampered cookies are refused; sign-in starts a new session.

tests/test_auth.py already covers: a session cookie replayed after sign-out, the
remember-me cookie after sign-out, a cookie with a broken signature, other
devices after a password change, sessions after a reset, and planted session
data. This module adds the cases those leave open.
"""

import time

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import CSRF_META, csrf_token, login, post_form
from tests.factories import DEFAULT_PASSWORD
from tests.security.conftest import snapshot

NEW_PASSWORD = "another fine passphrase"


def _signed_in(client) -> bool:
    response = client.get("/account")
    if response.status_code == 302:
        assert "/auth/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


def _replay(app, name: str, value: str):
    client = app.test_client()
    client.set_cookie(name, value)
    return client


def _write_attempt(client) -> int:
    """A profile change sent with the replayed session's own CSRF token (if it has one)."""
    page = client.get("/contact/sent").get_data(as_text=True)
    match = CSRF_META.search(page)
    token = match.group(1) if match else ""
    response = client.post(
        "/account",
        data={"display_name": "Hijacked", "language": "en", "time_zone": "UTC",
              "email_preference": "off", "csrf_token": token},
    )
    return response.status_code


def _change_password(client):
    return post_form(
        client,
        "/auth/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from="/auth/password",
    )


def test_this_devices_old_cookie_is_refused_after_a_password_change(app, world, client):
    member = world.user("member")
    login(client, member)
    old = client.get_cookie("session").value
    assert _signed_in(_replay(app, "session", old))  # a copy works while it is current

    assert _change_password(client).status_code == 302
    assert _signed_in(client)  # this device keeps a new session
    assert client.get_cookie("session").value != old

    replay = _replay(app, "session", old)
    assert not _signed_in(replay)
    before = snapshot()
    assert _write_attempt(replay) in (302, 400)
    assert snapshot() == before


def test_a_remember_me_cookie_is_refused_after_a_password_change(app, world, client):
    member = world.user("member")
    login(client, member, remember=True)
    remember = client.get_cookie("remember_token").value
    assert _signed_in(_replay(app, "remember_token", remember))

    assert _change_password(client).status_code == 302
    assert not _signed_in(_replay(app, "remember_token", remember))


def test_a_cookie_replayed_after_sign_out_cannot_write(app, world, client):
    login(client, world.user("member"))
    old = client.get_cookie("session").value
    post_form(client, "/auth/logout", token_from="/account")
    replay = _replay(app, "session", old)
    before = snapshot()
    # The old session still carries a valid CSRF token; the account is what it lost.
    assert _write_attempt(replay) == 302
    assert snapshot() == before


def test_sign_in_issues_a_new_session_and_csrf_token(app, world, client):
    """Session fixation: a session cookie (and CSRF token) from before sign-in, which
    someone else could have planted or copied, does not become the signed-in one."""
    member = world.user("member")
    before_token = csrf_token(client, "/auth/login")
    before_cookie = client.get_cookie("session").value
    login(client, member)
    assert client.get_cookie("session").value != before_cookie
    assert csrf_token(client, "/contact/sent") != before_token
    # Whoever kept the anonymous cookie is still anonymous.
    assert not _signed_in(_replay(app, "session", before_cookie))
    # Signing in again, as someone else, on the same browser: a new session again.
    first = client.get_cookie("session").value
    post_form(client, "/auth/logout", token_from="/account")
    login(client, world.user("learner"))
    assert client.get_cookie("session").value != first


def _forge(app, data: dict, secret_key: str) -> str:
    interface = SecureCookieSessionInterface()
    serializer = URLSafeTimedSerializer(
        secret_key,
        salt=interface.salt,
        serializer=interface.serializer,
        signer_kwargs={"key_derivation": interface.key_derivation, "digest_method": interface.digest_method},
    )
    return serializer.dumps(data)


def test_a_session_forged_with_another_key_is_refused(app, world):
    admin = world.user("admin")
    claim = {"_user_id": admin.get_id(), "_fresh": True, "auth_at": int(time.time())}
    genuine = _forge(app, claim, app.config["SECRET_KEY"])
    assert _signed_in(_replay(app, "session", genuine))  # the control: the forgery is well made
    forged = _forge(app, claim, "not-the-secret-key")
    client = _replay(app, "session", forged)
    assert not _signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_a_session_naming_an_old_session_version_is_refused(app, world):
    """Even correctly signed, a session from before the account's last sign-out is dead."""
    member = world.user("member")
    stale = f"{member.id}:{member.session_version - 1}"
    cookie = _forge(app, {"_user_id": stale, "_fresh": True, "auth_at": int(time.time())},
                    app.config["SECRET_KEY"])
    assert not _signed_in(_replay(app, "session", cookie))


def test_a_tampered_remember_me_cookie_is_refused(app, world, client):
    login(client, world.user("member"), remember=True)
    value = client.get_cookie("remember_token").value
    user_id, _, digest = value.partition("|")
    admin = world.user("admin")
    for tampered in (
        f"{admin.get_id()}|{digest}",  # someone else's id with the member's signature
        value[:-2] + ("00" if not value.endswith("00") else "11"),
    ):
        assert not _signed_in(_replay(app, "remember_token", tampered))
    assert _signed_in(_replay(app, "remember_token", value))
