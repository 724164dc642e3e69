"""LTI 1.3 launches against a fake platform with real keys: what a launch checks, refuses and does."""

import time

import pytest
from sqlalchemy import func, select

from coprod_study.extensions import db
from coprod_study.models import Course, CourseMember, LtiContext, LtiIdentity, User
from tests.lti.platform import new_key
from tests.lti.support import begin, crafted_launch, launch
from tests.security.conftest import differences, snapshot

pytestmark = pytest.mark.usefixtures("sample_catalog")


def _session_cookie(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_an_instructors_first_launch_makes_the_course_and_signs_them_in(client, platform, registered):
    response = launch(client, platform, "instructor", "deep_link")
    assert response.status_code == 302 and response.headers["Location"].endswith("/lti/deep-link")
    cookie = _session_cookie(response)
    assert "SameSite=None" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    assert "Partitioned" in cookie
    identity = db.session.scalar(select(LtiIdentity))
    user = db.session.get(User, identity.user_id)
    assert identity.subject == "lms-user-instructor" and user.display_name == "Ingrid Instructor"
    assert user.email == "ingrid@lms.example" and user.role == "educator"
    context = db.session.scalar(select(LtiContext))
    course = db.session.get(Course, context.course_id)
    assert course.title == "Coproduction in nursing" and course.code.startswith("NURS-101-")
    assert context.memberships_url == platform.base + "/memberships"
    assert context.lineitems_url == platform.base + "/lineitems"
    role = db.session.scalar(select(CourseMember.role).where(CourseMember.user_id == user.id))
    assert role == "educator"
    page = client.get("/lti/deep-link")
    assert page.status_code == 200 and "Coproduction in nursing" in page.get_data(as_text=True)
    policy = page.headers["Content-Security-Policy"]
    assert policy.endswith(f"frame-ancestors {platform.base}")
    assert "X-Frame-Options" not in page.headers
    # Pages of the course, in the same framed session, may be framed by the LMS too.
    course_page = client.get(f"/courses/{course.code}")
    assert platform.base in course_page.headers["Content-Security-Policy"]


def test_a_second_launch_finds_the_person_by_issuer_and_subject(client, app, platform, registered):
    launch(client, platform, "instructor", "deep_link")
    other = app.test_client()
    assert launch(other, platform, "instructor", "deep_link").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(User).where(User.display_name == "Ingrid Instructor")) == 1
    assert db.session.scalar(select(func.count()).select_from(Course)) == 1


def test_an_account_with_the_same_email_is_not_taken_over(client, platform, registered, make_user):
    existing = make_user(email="ingrid@lms.example", name="Someone Else")
    assert launch(client, platform, "instructor", "deep_link").status_code == 302
    identity = db.session.scalar(select(LtiIdentity))
    assert identity.user_id != existing.id
    made = db.session.get(User, identity.user_id)
    assert made.email.endswith("@lti.invalid") and made.email_preference == "off"


def test_a_learner_before_any_instructor_is_told_to_wait(client, platform, registered):
    before = snapshot()
    response = launch(client, platform, "learner", "link:1")
    assert response.status_code == 400
    assert "your instructor opens the tool first" in response.get_data(as_text=True)
    assert snapshot() == before


def test_an_ordinary_sign_in_keeps_lax_cookies(client, make_user):
    from tests.conftest import login

    user = make_user()
    response = login(client, user)
    cookie = _session_cookie(response)
    assert "SameSite=Lax" in cookie and "Secure" not in cookie and "Partitioned" not in cookie
    page = client.get("/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_login_step_refuses_an_unknown_issuer_and_a_foreign_target(client, platform, registered):
    params = platform.login_params("instructor", "deep_link")
    response = client.get("/lti/login", query_string={**params, "iss": "https://lms.elsewhere.example"})
    assert response.status_code == 400 and "is not registered here" in response.get_data(as_text=True)
    response = client.get("/lti/login", query_string={**params, "target_link_uri": "https://evil.example/x"})
    assert response.status_code == 400 and "not this site" in response.get_data(as_text=True)
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("lti_state_")]


def test_the_state_cookie_is_bound_to_the_launch_path_and_cross_site(client, platform, registered):
    response = client.get("/lti/login", query_string=platform.login_params("instructor", "deep_link"))
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("lti_state_"))
    assert "SameSite=None" in cookie and "Secure" in cookie and "Path=/lti/" in cookie
    assert "Partitioned" in cookie


def test_a_rotated_platform_key_is_fetched_again(client, platform, registered):
    assert launch(client, platform, "instructor", "deep_link").status_code == 302
    fetched = platform.jwks_requests
    assert launch(client, platform, "instructor", "deep_link").status_code == 302
    assert platform.jwks_requests == fetched  # cached
    platform.rotate()
    assert launch(client, platform, "instructor", "deep_link").status_code == 302
    assert platform.jwks_requests == fetched + 1


def _expired(claims):
    claims["iat"] = int(time.time()) - 3600
    claims["exp"] = int(time.time()) - 1800


REFUSALS = {
    "bad signature": (dict(key=new_key()), "signature does not match"),
    "unknown kid": (dict(key=new_key(), kid="never-published"), "a key the LMS does not publish"),
    "wrong aud": (dict(tamper=lambda c: c.update(aud="another-tool")), "meant for another tool"),
    "expired": (dict(tamper=_expired), "has expired"),
    "unknown deployment": (
        dict(tamper=lambda c: c.update({"https://purl.imsglobal.org/spec/lti/claim/deployment_id": "dep-x"})),
        "deployment of the tool (dep-x) is not registered",
    ),
    "missing state": (dict(state=""), "did not start in this browser"),
    "another state": (dict(state="a-state-this-browser-never-got"), "did not start in this browser"),
    "azp of another tool": (
        dict(tamper=lambda c: c.update(aud=[c["aud"], "other"], azp="other")), "authorized party",
    ),
    "wrong nonce": (dict(tamper=lambda c: c.update(nonce="not-the-nonce")), "nonce is not the one"),
    "deep link for files only": (
        dict(tamper=lambda c: c["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"]
             .update(accept_types=["file"])),
        "a kind of item this tool does not make",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_a_launch_that_fails_a_check_is_refused_and_writes_nothing(client, platform, registered, case):
    arguments, message = REFUSALS[case]
    before = snapshot()
    requests_before = platform.jwks_requests
    response, _data = crafted_launch(client, platform, **arguments)
    body = response.get_data(as_text=True)
    assert response.status_code == 400, body[:500]
    assert message in body and "Nothing was changed here" in body
    assert snapshot() == before, differences(before, snapshot())
    assert client.get("/account").status_code == 302  # not signed in
    if case == "unknown kid":
        assert platform.jwks_requests == requests_before + 1  # fetched again before refusing


def test_a_replayed_launch_is_refused_and_writes_nothing(client, app, platform, registered):
    state, nonce = begin(client, platform, "instructor", "deep_link")
    cookie_name = f"lti_state_{state}"
    # Someone copies the browser's state cookie and the platform's POST, and sends them again.
    copied = client.get_cookie(cookie_name, path="/lti/").value
    data = {"id_token": platform.sign(platform.claims_for("instructor", "deep_link", nonce)),
            "state": state}
    assert client.post("/lti/launch", data=data).status_code == 302
    assert client.get_cookie(cookie_name, path="/lti/") is None  # spent by the launch
    thief = app.test_client()
    thief.set_cookie(cookie_name, copied, path="/lti/")
    before = snapshot()
    replay = thief.post("/lti/launch", data=data)
    assert replay.status_code == 400 and "used already" in replay.get_data(as_text=True)
    assert snapshot() == before


def test_an_address_refused_again_and_again_is_told_to_wait(client, app, platform, registered):
    """Refusals count per address (LTI_FAILURE_LIMIT); past the limit even a good login
    step gets a 429 page that says how long to wait, and sets no state cookie."""
    app.config.update(RATELIMIT_ENABLED=True, LTI_FAILURE_LIMIT="3/minute")
    params = platform.login_params("instructor", "deep_link")
    good = client.get("/lti/login", query_string=params)
    assert good.status_code == 302
    for _ in range(3):
        response = client.get("/lti/login", query_string={**params, "iss": "https://x.example"})
        assert response.status_code == 400
    limited = client.get("/lti/login", query_string=params)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many launches from this address were refused" in limited.get_data(as_text=True)
    assert not [h for h in limited.headers.getlist("Set-Cookie") if h.startswith("lti_state_")]
    assert client.post("/lti/launch", data={"id_token": "x", "state": "y"}).status_code == 429
