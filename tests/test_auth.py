"""Registration, sign-in and out, sessions, password change and reset, rate limits."""

import re
import time

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.models import User
from tests.conftest import csrf_token, login, post_form
from tests.factories import DEFAULT_PASSWORD

NEW_PASSWORD = "another fine passphrase"
RESET_LINK = re.compile(r"http://localhost/auth/reset/(\S+)")


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def register(client, **fields):
    data = {
        "email": "newcomer@example.org",
        "display_name": "New Comer",
        "password": "a brand new passphrase",
        "confirm": "a brand new passphrase",
    }
    data.update(fields)
    return post_form(client, "/auth/register", data, token_from="/auth/register")


def is_signed_in(client) -> bool:
    response = client.get("/account")
    if response.status_code == 302:
        assert "/auth/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


# --- registration ----------------------------------------------------------


def test_register_creates_a_learner_and_signs_in(client):
    response = register(client, email="  Ann@Example.ORG ", display_name="  Ann   Lee ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = db.session.scalar(select(User))
    assert user.email == "ann@example.org"
    assert user.display_name == "Ann Lee"
    assert user.role == "learner"
    # The app's own work factor, not the small one tests/factories.py uses.
    assert user.password_hash.startswith("scrypt:32768:8:1$")
    home = client.get("/").get_data(as_text=True)
    assert "Ann Lee" in home
    assert "My study groups" in home


def test_register_refuses_an_address_that_differs_only_in_case(client, make_user):
    make_user(email="ann@example.org")
    before = user_count()
    response = register(client, email="Ann@Example.ORG", display_name="Second Ann")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "An account with this e-mail address already exists." in page
    assert 'value="Ann@Example.ORG"' in page
    assert 'value="Second Ann"' in page
    assert user_count() == before
    assert not is_signed_in(client)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"password": "short1", "confirm": "short1"}, "Use at least 10 characters."),
        (
            {"password": "password123", "confirm": "password123"},
            "This password is too common",
        ),
        (
            {"password": "Password123", "confirm": "Password123"},
            "This password is too common",
        ),
        (
            {"password": "a brand new passphrase", "confirm": "a different passphrase"},
            "The two passwords differ.",
        ),
        ({"display_name": "x" * 81}, "Use at most 80 characters."),
        ({"display_name": "   "}, "Enter a display name."),
        ({"email": "not-an-email"}, "Enter a valid e-mail address"),
        ({"email": "two@@example.org"}, "Enter a valid e-mail address"),
        ({"email": "x" * 250 + "@example.org"}, "Field cannot be longer than 254 characters."),
    ],
    ids=[
        "short-password",
        "common-password",
        "common-password-other-case",
        "mismatched-confirm",
        "long-name",
        "blank-name",
        "invalid-email",
        "double-at",
        "long-email",
    ],
)
def test_register_bad_input_keeps_typed_values_and_writes_nothing(client, fields, message):
    response = register(client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert 'class="error"' in page  # next to its field, not only at the top
    email = fields.get("email", "newcomer@example.org")
    name = fields.get("display_name", "New Comer")
    assert f'value="{email}"' in page
    if name.strip():
        assert f'value="{name}"' in page
    assert user_count() == 0
    assert not is_signed_in(client)


def test_register_with_every_field_empty_names_each_field(client):
    response = register(client, email="", display_name="", password="", confirm="")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in (
        "Enter your e-mail address.",
        "Enter a display name.",
        "Choose a password.",
        "Type the password again.",
    ):
        assert message in page
    assert user_count() == 0


def test_register_without_csrf_token_is_refused(client):
    response = client.post(
        "/auth/register",
        data={
            "email": "newcomer@example.org",
            "display_name": "New Comer",
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 400
    assert user_count() == 0


# --- signing in and out ----------------------------------------------------


def test_login_success_greets_and_signs_in(client, make_user):
    user = make_user(name="Greta Login")
    response = login(client, user)
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Signed in as Greta Login." in page
    assert is_signed_in(client)
    db.session.refresh(user)
    assert user.last_login_at is not None


def test_login_accepts_the_address_in_any_case(client, make_user):
    make_user(email="case@example.org")
    login(client, "  CASE@Example.org")
    assert is_signed_in(client)


@pytest.mark.parametrize(
    "email,password",
    [("person@example.org", "wrong password here"), ("nobody@example.org", DEFAULT_PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_login_failure_shows_one_message_and_keeps_the_email(client, make_user, email, password):
    make_user(email="person@example.org")
    response = post_form(
        client, "/auth/login", {"email": email, "password": password}, token_from="/auth/login"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "That e-mail address and password do not match an account." in page
    assert f'value="{email}"' in page
    assert not is_signed_in(client)


def test_login_with_empty_fields_names_them(client):
    response = post_form(
        client, "/auth/login", {"email": "", "password": ""}, token_from="/auth/login"
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter your e-mail address." in page
    assert "Enter your password." in page


def test_login_starts_a_fresh_session(client, make_user):
    user = make_user()
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client, user)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{user.id}:{user.session_version}"


def test_remember_me_sets_a_remember_cookie_that_restores_the_session(client, make_user):
    user = make_user()
    response = login(client, user, remember=True)
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember, cookies
    assert "HttpOnly" in remember[0]
    # Plain HTTP here: Secure over HTTPS only (tests/test_cookies.py).
    assert "Secure" not in remember[0]
    assert "SameSite=Lax" in remember[0]
    client.delete_cookie("session")
    assert is_signed_in(client)


def test_without_remember_me_no_remember_cookie(client, make_user):
    response = login(client, make_user())
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))


def test_session_cookie_flags(client, make_user):
    response = login(client, make_user())
    session_cookie = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert session_cookie
    assert "HttpOnly" in session_cookie[0]
    assert "SameSite=Lax" in session_cookie[0]
    assert "Secure" not in session_cookie[0]  # plain HTTP; over HTTPS see tests/test_cookies.py


def test_logout_is_post_only(client, make_user):
    login(client, make_user())
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert is_signed_in(client)


def test_logout_ends_the_session_and_a_replayed_cookie_no_longer_works(app, client, make_user):
    user = make_user()
    login(client, user)
    old_cookie = client.get_cookie("session").value
    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    assert is_signed_in(replay)  # the copy works while the session is alive

    response = post_form(client, "/auth/logout", token_from="/account")
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "You are signed out." in page
    assert "Sign in" in page
    assert not is_signed_in(client)

    replay = app.test_client()
    replay.set_cookie("session", old_cookie)
    response = replay.get("/account")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_logout_also_deletes_and_disables_the_remember_cookie(app, client, make_user):
    user = make_user()
    login(client, user, remember=True)
    old_remember = client.get_cookie("remember_token").value
    response = post_form(client, "/auth/logout", token_from="/account")
    assert client.get_cookie("remember_token") is None, response.headers.getlist("Set-Cookie")
    replay = app.test_client()
    replay.set_cookie("remember_token", old_remember)
    assert not is_signed_in(replay)


def test_a_tampered_session_cookie_is_not_authenticated(app, client, make_user):
    login(client, make_user())
    value = client.get_cookie("session").value
    tampered = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    other = app.test_client()
    other.set_cookie("session", tampered)
    response = other.get("/account")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_session_ends_after_its_absolute_lifetime(client, make_user):
    login(client, make_user())
    with client.session_transaction() as session:
        session["auth_at"] = int(time.time()) - 15 * 24 * 3600
    assert not is_signed_in(client)


# --- safe next -------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_a_next_that_leaves_the_site(client, make_user, target):
    user = make_user()
    response = post_form(
        client,
        "/auth/login",
        {"email": user.email, "password": DEFAULT_PASSWORD, "next": target},
        token_from="/auth/login",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(client, make_user):
    user = make_user()
    token = csrf_token(client, "/auth/login?next=/episodes")
    response = client.post(
        "/auth/login?next=/episodes",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/episodes"


def test_login_page_carries_next_into_the_form(client):
    page = client.get("/auth/login?next=/episodes").get_data(as_text=True)
    assert 'name="next" value="/episodes"' in page


# --- rate limit ------------------------------------------------------------


def _failed_login(client, email, remote_addr="127.0.0.1"):
    return client.post(
        "/auth/login",
        data={
            "email": email,
            "password": "definitely not it",
            "csrf_token": csrf_token(client, "/auth/login"),
        },
        environ_base={"REMOTE_ADDR": remote_addr},
    )


def _assert_throttled(response):
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    match = re.search(r"Try again in (\d+) seconds", page)
    assert match, page
    assert int(match.group(1)) > 0
    assert int(response.headers["Retry-After"]) > 0
    assert "Traceback" not in page


def test_login_is_rate_limited_per_address_even_with_the_right_password(client, make_user):
    user = make_user()
    for _ in range(10):
        assert _failed_login(client, user.email).status_code == 400
    response = post_form(
        client,
        "/auth/login",
        {"email": user.email, "password": DEFAULT_PASSWORD},
        token_from="/auth/login",
    )
    _assert_throttled(response)
    assert not is_signed_in(client)


def test_login_is_rate_limited_per_account_across_addresses(client, make_user):
    user = make_user()
    for number in range(10):
        assert _failed_login(client, user.email, f"10.0.0.{number + 1}").status_code == 400
    response = client.post(
        "/auth/login",
        data={
            "email": user.email.upper(),
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_token(client, "/auth/login"),
        },
        environ_base={"REMOTE_ADDR": "10.0.0.99"},
    )
    _assert_throttled(response)


def test_successful_logins_do_not_count_towards_the_limit(app, make_user):
    user = make_user()
    for _ in range(11):
        client = app.test_client()
        login(client, user)


# --- change password ---------------------------------------------------------


def test_password_change_ends_other_sessions_and_keeps_this_one(app, make_user):
    user = make_user()
    here = app.test_client()
    elsewhere = app.test_client()
    login(here, user)
    login(elsewhere, user)
    assert is_signed_in(elsewhere)
    response = post_form(
        here,
        "/auth/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
        token_from="/auth/password",
    )
    assert response.status_code == 302
    page = here.get("/account")
    assert page.status_code == 200
    assert "Other devices are signed out." in page.get_data(as_text=True)
    assert not is_signed_in(elsewhere)
    fresh = app.test_client()
    login(fresh, user.email, password=NEW_PASSWORD)


def test_password_change_requires_the_current_password(app, client, make_user):
    user = make_user()
    old_hash = user.password_hash
    login(client, user)
    response = post_form(
        client,
        "/auth/password",
        {
            "current_password": "not my password at all",
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
        token_from="/auth/password",
    )
    assert response.status_code == 400
    assert "Your current password is not right." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash
    assert is_signed_in(client)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short", "short", "Use at least 10 characters."),
        ("password123", "password123", "This password is too common"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ."),
    ],
)
def test_password_change_checks_the_new_password(client, make_user, new, confirm, message):
    user = make_user()
    old_hash = user.password_hash
    login(client, user)
    response = post_form(
        client,
        "/auth/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": new, "confirm": confirm},
        token_from="/auth/password",
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_password_change_needs_sign_in(client):
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


# --- password reset ----------------------------------------------------------


def _request_reset(client, email):
    return post_form(client, "/auth/reset", {"email": email}, token_from="/auth/reset")


def _reset_token(outbox) -> str:
    messages = outbox()
    assert len(messages) == 1
    body = messages[0].get_content()
    match = RESET_LINK.search(body)
    assert match, body
    return match.group(1)


def test_reset_flow_link_works_once(app, client, make_user, outbox):
    user = make_user(email="forgetful@example.org")
    response = _request_reset(client, "Forgetful@Example.org")
    assert response.status_code == 200
    assert "Check your e-mail" in response.get_data(as_text=True)
    message = outbox()[0]
    assert message["To"] == "forgetful@example.org"
    token = _reset_token(outbox)

    page = client.get(f"/auth/reset/{token}")
    assert page.status_code == 200
    assert "Choose a new password" in page.get_data(as_text=True)

    response = post_form(
        client,
        f"/auth/reset/{token}",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from=f"/auth/reset/{token}",
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    login(app.test_client(), user, password=NEW_PASSWORD)

    again = client.get(f"/auth/reset/{token}")
    assert again.status_code == 400
    assert "invalid or expired" in again.get_data(as_text=True)


def test_reset_ends_existing_sessions(app, client, make_user, outbox):
    user = make_user()
    signed_in = app.test_client()
    login(signed_in, user)
    _request_reset(client, user.email)
    token = _reset_token(outbox)
    post_form(
        client,
        f"/auth/reset/{token}",
        {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        token_from=f"/auth/reset/{token}",
    )
    assert not is_signed_in(signed_in)


def test_reset_refuses_a_bad_new_password(client, make_user, outbox):
    user = make_user()
    old_hash = user.password_hash
    _request_reset(client, user.email)
    token = _reset_token(outbox)
    response = post_form(
        client,
        f"/auth/reset/{token}",
        {"password": "short", "confirm": "short"},
        token_from=f"/auth/reset/{token}",
    )
    assert response.status_code == 400
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash
    # The link still works: nothing was changed.
    assert client.get(f"/auth/reset/{token}").status_code == 200


@pytest.mark.parametrize(
    "mangle",
    [
        lambda token: token[:-3] + ("abc" if not token.endswith("abc") else "xyz"),
        lambda token: "x" + token,
        lambda token: "not-a-token",
        lambda token: token.split(".")[0],
    ],
    ids=["signature", "payload", "garbage", "truncated"],
)
def test_a_tampered_reset_token_shows_the_invalid_page(client, make_user, outbox, mangle):
    user = make_user()
    _request_reset(client, user.email)
    token = mangle(_reset_token(outbox))
    response = client.get(f"/auth/reset/{token}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This link is invalid or expired" in page
    assert "Traceback" not in page
    post = client.post(f"/auth/reset/{token}", data={"password": "x", "confirm": "x"})
    assert post.status_code == 400


def test_an_expired_reset_token_is_refused(app, client, make_user, outbox):
    user = make_user()
    _request_reset(client, user.email)
    token = _reset_token(outbox)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(f"/auth/reset/{token}")
    assert response.status_code == 400
    assert "invalid or expired" in response.get_data(as_text=True)


def test_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(client, make_user, outbox):
    make_user(email="known@example.org")
    known = _request_reset(client, "known@example.org").get_data(as_text=True)
    unknown = _request_reset(client, "stranger@example.org")
    page = unknown.get_data(as_text=True)
    assert unknown.status_code == 200
    assert "Check your e-mail" in page
    # The same page but for the address (and the CSRF token's timestamp and
    # signature, in the form and in the page's meta tag, made anew at each request).
    unsigned = re.compile(r'((?:name="csrf_token" value|name="csrf-token" content)="[^".]+)[^"]*"')
    assert unsigned.sub(r'\1"', known.replace("known@example.org", "X")) == unsigned.sub(
        r'\1"', page.replace("stranger@example.org", "X")
    )
    assert len(outbox()) == 1
    assert outbox()[0]["To"] == "known@example.org"


def test_reset_request_with_empty_email_shows_a_message(client, outbox):
    response = _request_reset(client, "")
    assert response.status_code == 400
    assert "Enter your e-mail address." in response.get_data(as_text=True)
    assert outbox() == []
