"""CSRF: every POST route (from url_map) refuses a missing or foreign token and writes nothing."""

import pytest

from tests.api_support import bearer
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.security.conftest import differences, snapshot, url_rules
from tests.security.test_authorization_matrix import EXPECTED, LIGHT_PAGE, _form
from tests.security.world import ROLES

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
POST_RULES = url_rules(UNSAFE)
# Nothing here writes but what it asserts on, so the tests share one copy of the world.
SHARE_WORLD = True
API_PREFIX = "/api/v1/"
# POST routes that are deliberately exempt from CSRF, each with the reason.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST without a session; the
    # signed token in the URL is the proof.
    "/email/unsubscribe/<token>",
    # LTI 1.3: the LMS starts the login and posts the id_token from its own pages, so
    # no token of ours can be in them. The launch is bound to this browser by the
    # signed state cookie and accepted once by its nonce (tests/lti/test_launch.py);
    # the login step writes nothing but that cookie.
    "/lti/login",
    "/lti/launch",
    # The same for spaced follow-ups (the token names the person; it only turns them off).
    "/follow-ups/unsubscribe/<token>",
}
# The JSON API is the one blueprint exempt from CSRF: it authenticates by a
# bearer token that browsers never send by themselves and ignores session
# cookies (test_api_writes_ignore_the_session_cookie below).
CSRF_EXEMPT_BLUEPRINTS = {"api"}
GUARDED = [
    rule
    for rule in POST_RULES
    if rule.rule not in CSRF_EXEMPT and not rule.rule.startswith(API_PREFIX)
]
EXPIRED = "This form has expired"


def test_there_are_post_routes_to_check():
    rules = {rule.rule for rule in POST_RULES}
    for expected in (
        "/auth/login",
        "/auth/logout",
        "/auth/register",
        "/account",
        "/admin/users/<int:user_id>/role",
        "/episodes/<slug>/listened",
        "/groups/<slug>/episodes/<episode_slug>/questions/<int:number>",
        "/groups/<slug>/threads/<int:thread_id>",
    ):
        assert expected in rules
    assert len(GUARDED) >= 60


def _exempt_views() -> set[str]:
    from coprod_study.extensions import csrf

    names = {getattr(bp, "name", bp) for bp in csrf._exempt_blueprints}
    assert names == CSRF_EXEMPT_BLUEPRINTS, (
        "only the API blueprint may be exempt from CSRF as a whole"
    )
    return set(csrf._exempt_views)


def test_only_the_listed_routes_are_exempt_from_csrf(app):
    exempt = set()
    for rule in POST_RULES:
        view = app.view_functions[rule.endpoint]
        if f"{view.__module__}.{view.__name__}" in _exempt_views():
            exempt.add(rule.rule)
    assert exempt == CSRF_EXEMPT & {rule.rule for rule in POST_RULES}
    # Every route of the exempt blueprint sits under the API prefix, and only there.
    for rule in app.url_map.iter_rules():
        in_api = rule.endpoint.split(".")[0] in CSRF_EXEMPT_BLUEPRINTS
        assert in_api == rule.rule.startswith(API_PREFIX), rule.rule


def _method(rule) -> str:
    return sorted(rule.methods & UNSAFE)[0]


def _writers(endpoint: str, method: str) -> list[str]:
    """The roles whose request the matrix shows writing: without CSRF they would succeed."""
    row = EXPECTED.get((endpoint, method))
    if row is None:
        pytest.fail(f"{endpoint} {method} has no row in the authorization matrix; add one first")
    cells = row.split()
    roles = [role for role, cell in zip(ROLES, cells, strict=True) if cell.endswith("+")]
    return ["visitor"] + [role for role in roles if role != "visitor"]


@pytest.mark.parametrize("rule", GUARDED, ids=[rule.endpoint for rule in GUARDED])
def test_every_post_route_refuses_a_missing_or_foreign_token(app, world, clients, rule):
    """The same request that writes with the session's own token (the authorization
    matrix shows which) answers 400 without one, or with another session's, and
    changes no row of any table."""
    path = world.path(rule)
    data = dict(_form(world, rule.endpoint))
    if rule.endpoint == "auth.login":
        data.update(email=world.user("learner").email, password=DEFAULT_PASSWORD)
    # A token that is valid, but for another person's session.
    stranger = app.test_client()
    foreign = csrf_token(stranger, LIGHT_PAGE)
    attempts = 0
    method = _method(rule)
    for role in _writers(rule.endpoint, method):
        client = clients[role]
        for where, token in (("none", None), ("form", foreign), ("header", foreign)):
            before = snapshot()
            sent = dict(data)
            headers = {}
            if where == "form":
                sent["csrf_token"] = token
            elif where == "header":
                headers["X-CSRFToken"] = token
            response = client.open(path, method=method, data=sent, headers=headers)
            body = response.get_data(as_text=True)
            assert response.status_code == 400, (role, where, path, response.status_code)
            assert EXPIRED in body, (role, where, path)
            after = snapshot()
            assert before == after, (role, where, path, differences(before, after))
            attempts += 1
    # The sign-in form, sent with the right password and a foreign token, signs no one in.
    if rule.endpoint == "auth.login":
        assert clients["visitor"].get("/account").status_code == 302
    assert attempts >= 3


def test_the_same_requests_with_the_sessions_own_token_get_through(app, world, clients):
    """The control: with its own token the member's answer is posted (so the 400s above
    are CSRF refusals, not requests that would have failed anyway)."""
    rule = next(r for r in GUARDED if r.endpoint == "groups.reply")
    client = clients["member"]
    before = snapshot()
    data = dict(_form(world, rule.endpoint), csrf_token=csrf_token(client, LIGHT_PAGE))
    response = client.post(world.path(rule), data=data)
    assert response.status_code == 302
    assert before != snapshot()


@pytest.mark.parametrize("rule", sorted(CSRF_EXEMPT & {rule.rule for rule in POST_RULES}))
def test_csrf_exempt_routes_refuse_a_bad_token(app, world, client, rule):
    from sqlalchemy import select

    from coprod_study.extensions import db
    from coprod_study.models import User

    before = snapshot()
    path = rule.replace("<token>", "not-a-signed-token")
    response = client.post(path, data={"anything": "x"})
    assert response.status_code in {400, 404}
    assert snapshot() == before
    assert "off" not in db.session.scalars(select(User.email_preference)).all()


def _api_write_rules() -> list:
    return sorted(
        ((rule, method) for rule in url_rules() if rule.rule.startswith(API_PREFIX)
         for method in rule.methods - {"GET", "HEAD", "OPTIONS"}),
        key=lambda item: (item[0].rule, item[1]),
    )


def test_there_are_api_write_routes_to_check():
    methods = {method for _, method in _api_write_rules()}
    assert {"POST", "PATCH"} <= methods


def test_api_writes_ignore_the_session_cookie(app, world, clients):
    """A signed-in browser session (with its CSRF token even) never authorizes an API write;
    the same request with the person's bearer token does."""
    client = clients["member"]
    token = csrf_token(client, LIGHT_PAGE)
    for rule, method in _api_write_rules():
        path = world.path(rule)
        before = snapshot()
        response = client.open(
            path, method=method, json={"body": "written through a cookie"},
            headers={"X-CSRFToken": token},
        )
        assert response.status_code == 401, (method, path, response.status_code)
        assert response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert snapshot() == before, (method, path)
    # The control: the bearer token is what the API listens to.
    rule = next(r for r, m in _api_write_rules() if r.endpoint == "api.post_reply")
    response = app.test_client().post(
        world.path(rule), json={"body": "written with a token"},
        headers=bearer(world.tokens["member"]),
    )
    assert response.status_code == 201
