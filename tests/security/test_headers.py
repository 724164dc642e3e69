"""Security headers on every GET route (from url_map, variables filled), for visitors and members."""

import re

import pytest

from tests.api_support import bearer
from tests.security.conftest import url_rules
from tests.security.world import ROLES

GET_RULES = url_rules(["GET"])
# Nothing here writes but what it asserts on, so the tests share one copy of the world.
SHARE_WORLD = True
REFERRER_POLICIES = {"same-origin", "strict-origin-when-cross-origin", "no-referrer", "strict-origin"}
# A JSON-LD block is data the browser never runs (and CSP does not govern); its
# text cannot close the tag (tojson escapes <, > and &; see test_sharing).
INLINE_SCRIPT = re.compile(
    r'<script(?![^>]*\b(?:src=|type="application/ld\+json"))[^>]*>', re.IGNORECASE
)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
# Powerful features no page of the app uses: each must be denied outright.
MUST_DENY = ("camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth",
             "display-capture", "fullscreen", "autoplay", "midi", "hid")
HSTS = re.compile(r"max-age=(\d+)")


def permissions(response) -> dict:
    """The Permissions-Policy header as {feature: allowlist}."""
    found = {}
    for item in filter(None, (p.strip() for p in response.headers.get(
            "Permissions-Policy", "").split(","))):
        name, _, value = item.partition("=")
        found[name.strip()] = value.strip()
    return found


def header_problems(response, signed_in: bool, frame_ancestors=("'none'",),
                    https: bool = False) -> list[str]:
    """What is wrong with one response's headers (empty when nothing is)."""
    problems = []
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    directives = {}
    for directive in filter(None, (part.strip() for part in policy.split(";"))):
        name, *values = directive.split()
        directives[name] = values
    script_src = directives.get("script-src", directives.get("default-src", []))
    if not policy:
        problems.append("no Content-Security-Policy")
    if "'unsafe-inline'" in script_src or "'unsafe-eval'" in script_src:
        problems.append(f"script-src allows inline or eval: {script_src}")
    if not script_src:
        problems.append("no script-src or default-src")
    for name in ("object-src", "base-uri"):
        if directives.get(name) != ["'none'"]:
            problems.append(f"{name} is {directives.get(name)}, not 'none'")
    if directives.get("frame-ancestors") != list(frame_ancestors):
        problems.append(f"frame-ancestors is {directives.get('frame-ancestors')}, not {list(frame_ancestors)}")
    if headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if headers.get("Referrer-Policy") not in REFERRER_POLICIES:
        problems.append(f"Referrer-Policy is {headers.get('Referrer-Policy')!r}")
    cache = headers.get("Cache-Control", "")
    if signed_in and "no-store" not in cache:
        problems.append(f"a signed-in response without Cache-Control: no-store ({cache!r})")
    features = permissions(response)
    if not features:
        problems.append("no Permissions-Policy")
    for name in MUST_DENY:
        if features and features.get(name) != "()":
            problems.append(f"Permissions-Policy allows {name}: {features.get(name)!r}")
    if https:
        match = HSTS.search(headers.get("Strict-Transport-Security", ""))
        if not match or int(match.group(1)) < 180 * 24 * 3600:
            problems.append("an HTTPS response without Strict-Transport-Security of 180 days")
    elif "Strict-Transport-Security" in headers:
        problems.append("Strict-Transport-Security over plain HTTP")
    if response.mimetype == "text/html":
        page = response.get_data(as_text=True)
        if INLINE_SCRIPT.search(page):
            problems.append("an inline <script>")
        if EVENT_HANDLER.search(page):
            problems.append("an inline event handler attribute")
    return problems


@pytest.mark.parametrize("role", ["visitor", "member", "facilitator", "educator", "admin"])
def test_every_get_route_sends_the_security_headers(app, world, clients, role):
    signed_in = role != "visitor"
    checked = 0
    problems = []
    for rule in GET_RULES:
        headers = {}
        if rule.endpoint.startswith("api.") and signed_in:
            headers = bearer(world.tokens[role])
        path = world.path(rule)
        response = clients[role].get(path, headers=headers)
        # A static file is the same for everyone and may be cached; the rest is checked.
        private = signed_in and rule.endpoint != "static"
        # The tool's LTI pages may be framed by the registered LMSs, and only by them.
        framers = world.values["lti_origins"] if rule.endpoint.startswith("lti.") else ("'none'",)
        problems += [f"{path} ({response.status_code}): {p}"
                     for p in header_problems(response, private, framers)]
        if role == "visitor":
            # Over HTTPS (as a proxy would say through PROXY_HOPS) the same, and HSTS.
            secure = clients[role].get(path, headers=headers, base_url="https://localhost")
            problems += [f"https {path} ({secure.status_code}): {p}"
                         for p in header_problems(secure, False, framers, https=True)]
        checked += 1
    assert checked == len(GET_RULES) >= 80
    assert not problems, "\n".join(problems)


def test_error_pages_and_methods_not_allowed_carry_the_headers_too(app, clients):
    for role, path in (
        ("visitor", "/no-such-page"),
        ("member", "/no-such-page"),
        ("member", "/groups/no-such-group"),
        ("visitor", "/auth/logout"),
        ("visitor", "/api/v1/no-such-thing"),
    ):
        response = clients[role].get(path)
        assert response.status_code in (404, 405)
        assert not header_problems(response, signed_in=role != "visitor"), (role, path)


def test_pages_for_visitors_may_be_cached_and_pages_for_members_may_not(app, world, clients):
    visitor = clients["visitor"].get("/episodes")
    assert "no-store" not in visitor.headers.get("Cache-Control", "")
    for path in ("/account", "/episodes", "/"):
        response = clients["member"].get(path)
        assert "no-store" in response.headers["Cache-Control"]
        assert "Cookie" in response.headers.get("Vary", "")


def test_the_checks_can_fail():
    """The header checker finds a missing or weakened policy (so the suite is not vacuous)."""
    from werkzeug.wrappers import Response

    weak = Response(
        "<p onclick=x()>hi</p><script>alert(1)</script>",
        mimetype="text/html",
        headers={"Content-Security-Policy": "script-src 'self' 'unsafe-inline'"},
    )
    found = " ".join(header_problems(weak, signed_in=True, https=True))
    for expected in ("inline or eval", "object-src", "base-uri", "frame-ancestors", "nosniff",
                     "Referrer-Policy", "no-store", "inline <script>", "event handler",
                     "no Permissions-Policy", "without Strict-Transport-Security"):
        assert expected in found
    loose = Response("ok", headers={"Permissions-Policy": "camera=(self), microphone=*",
                                    "Strict-Transport-Security": "max-age=60"})
    found = " ".join(header_problems(loose, signed_in=False, https=False))
    for expected in ("allows camera", "allows microphone", "over plain HTTP"):
        assert expected in found
    short = Response("ok", headers={"Strict-Transport-Security": "max-age=60"})
    assert "without Strict-Transport-Security" in " ".join(header_problems(short, False, https=True))
    assert ROLES[0] == "visitor"


def test_hsts_goes_only_over_https_and_can_be_left_to_the_proxy(app, clients):
    client = clients["visitor"]
    secure = client.get("/episodes", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/episodes").headers
    app.config.update(HSTS_INCLUDE_SUBDOMAINS=True, HSTS_PRELOAD=True)
    assert client.get("/episodes", base_url="https://localhost").headers[
        "Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # Where the proxy in front sends it, the app sends none.
    app.config["HSTS_SECONDS"] = 0
    assert "Strict-Transport-Security" not in client.get(
        "/episodes", base_url="https://localhost").headers
    app.config.update(HSTS_SECONDS=31536000, HSTS_INCLUDE_SUBDOMAINS=False, HSTS_PRELOAD=False)


def test_a_view_can_allow_one_feature_for_its_own_page(app, clients):
    from coprod_study.ops.headers import add_headers, allow_feature

    with app.test_request_context("/groups/x/record"):
        allow_feature("microphone")  # what a recorder page's view calls
        loosened = permissions(add_headers(app.make_response("recording")))
    assert loosened["microphone"] == "(self)"
    # Everything else as on every other page, and no other page is loosened.
    usual = permissions(clients["visitor"].get("/episodes"))
    assert usual["microphone"] == "()"
    assert {k: v for k, v in loosened.items() if k != "microphone"} == {
        k: v for k, v in usual.items() if k != "microphone"}
    with app.test_request_context("/"), pytest.raises(ValueError, match="unknown"):
        allow_feature("no-such-feature")
