"""Every URL rule x every role -> the expected answer, generated from app.url_map.

A row is one cell per role, in the order of ROLES below. A cell is
  <status>   the HTTP status, or L for a redirect to the sign-in page
  S          the group's private text (world.SECRET) is in the body
  C          the course's private text (world.COURSE_SECRET) is in the body
  +          the request wrote to the database (write methods only)
A cell without S or C asserts that the text is NOT in the body; a write cell
without + asserts that no row of any table changed.

A route that is new, or a new method on a route, has no row and fails the
test: add its row to EXPECTED (the failure message prints what it answered).
"""

import pytest

from coprod_study.extensions import db
from tests.api_support import bearer
from tests.conftest import csrf_token
from tests.factories import DEFAULT_PASSWORD
from tests.security.conftest import differences, snapshot, url_rules
from tests.security.world import COURSE_SECRET, ROLES, SECRET

READ = frozenset({"GET"})
IGNORED_METHODS = frozenset({"HEAD", "OPTIONS"})
DENIALS = {"L", "401", "403", "404"}

#               visitor learner pending member removed oth-fac facil. oth-edu educat. admin
EXPECTED: dict[str, dict[str, str]] = {}


def _rules():
    rules = url_rules()
    found = []
    for rule in rules:
        for method in sorted(rule.methods - IGNORED_METHODS):
            found.append((rule, method))
    return found


RULES = _rules()
READ_RULES = [(rule, method) for rule, method in RULES if method in READ]
WRITE_RULES = [(rule, method) for rule, method in RULES if method not in READ]


def _cell(response, wrote: bool | None = None) -> str:
    location = response.headers.get("Location", "")
    if response.status_code in (301, 302, 303) and "/auth/login" in location:
        cell = "L"
    else:
        cell = str(response.status_code)
    body = response.get_data(as_text=True)
    if SECRET in body:
        cell += "S"
    if COURSE_SECRET in body:
        cell += "C"
    if wrote:
        cell += "+"
    return cell


def _row(cells: list[str]) -> str:
    return " ".join(f"{cell:<6}" for cell in cells).rstrip()


def _expected(endpoint: str, method: str) -> list[str] | None:
    row = EXPECTED.get(endpoint, {}).get(method)
    return row.split() if row else None


def test_every_route_and_method_has_a_row():
    missing = sorted(
        f"{rule.endpoint} {method} {rule.rule}"
        for rule, method in RULES
        if _expected(rule.endpoint, method) is None
    )
    assert not missing, (
        "These routes have no row in EXPECTED of tests/security/test_authorization_matrix.py; "
        "decide who may use them and add a row:\n  " + "\n  ".join(missing)
    )
    stale = sorted(
        f"{endpoint} {method}"
        for endpoint, methods in EXPECTED.items()
        for method in methods
        if not any(rule.endpoint == endpoint and m == method for rule, m in RULES)
    )
    assert not stale, "EXPECTED has rows for routes that no longer exist: " + ", ".join(stale)


def test_the_table_is_well_formed():
    for endpoint, methods in EXPECTED.items():
        for method, row in methods.items():
            cells = row.split()
            assert len(cells) == len(ROLES), (endpoint, method, "needs one cell per role")
            for role, cell in zip(ROLES, cells, strict=True):
                status = cell.rstrip("SC+")
                assert status == "L" or status.isdigit(), (endpoint, method, role, cell)
                if method in READ:
                    assert "+" not in cell, (endpoint, method, role, "a read never writes")
                elif status in DENIALS:
                    # Refusing and writing at once would be a contradiction in the table.
                    assert "+" not in cell, (endpoint, method, role, cell)


def _send(client, world, rule, method, role, path):
    headers = {}
    if rule.endpoint.startswith("api."):
        if world.users[role] is not None:
            headers.update(bearer(world.tokens[role]))
        if method == "GET":
            return client.get(path, headers=headers)
        return client.open(path, method=method, json=_api_body(rule.endpoint), headers=headers)
    if method == "GET":
        return client.get(path)
    data = dict(_form(world, rule.endpoint))
    data["csrf_token"] = csrf_token(client)
    return client.open(path, method=method, data=data)


def test_read_matrix(app, world, clients):
    """Every GET route for every role: the status, and private text only where allowed."""
    problems = []
    for rule, method in READ_RULES:
        path = world.path(rule)
        cells = [_cell(_send(clients[role], world, rule, method, role, path)) for role in ROLES]
        expected = _expected(rule.endpoint, method)
        if cells != expected:
            problems.append(
                f"{rule.endpoint} {method} {path}\n"
                f"    expected: {_row(expected) if expected else '(no row)'}\n"
                f"    actual:   {_row(cells)}"
            )
    print(f"read matrix: {len(READ_RULES)} routes x {len(ROLES)} roles")
    assert not problems, "roles: " + " ".join(ROLES) + "\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("rule", "method"), WRITE_RULES, ids=[f"{rule.endpoint}-{method}" for rule, method in WRITE_RULES]
)
def test_write_matrix(app, world, clients, rule, method):
    """Every write route for every role (on a fresh world): the status, and no write
    at all from a role that is refused."""
    path = world.path(rule)
    cells = []
    for role in ROLES:
        before = snapshot()
        response = _send(clients[role], world, rule, method, role, path)
        after = snapshot()
        wrote = before != after
        cells.append(_cell(response, wrote))
        expected = _expected(rule.endpoint, method)
        if expected and "+" not in expected[ROLES.index(role)] and wrote:
            pytest.fail(
                f"{role} {method} {path} answered {response.status_code} and wrote: "
                + "; ".join(differences(before, after))
            )
        db.session.rollback()
    expected = _expected(rule.endpoint, method)
    assert cells == expected, (
        f"{rule.endpoint} {method} {path}\n    roles:    {_row(list(ROLES))}\n"
        f"    expected: {_row(expected) if expected else '(no row)'}\n    actual:   {_row(cells)}"
    )


# --- What each write route is sent -----------------------------------------------------


def _api_body(endpoint: str) -> dict:
    return {"body": f"Written through {endpoint}."}


def _form(world, endpoint: str) -> dict:
    """Form fields that make the request valid for someone who may send it."""
    now = "2030-01-10T10:00"
    forms = {
        "account.profile": {
            "display_name": "Renamed", "language": "en", "time_zone": "UTC",
            "email_preference": "daily",
        },
        "account.delete": {"password": DEFAULT_PASSWORD},
        "account.new_token": {"name": "script", "scope": "read", "lifetime": "90"},
        "admin.change_role": {"role": "facilitator"},
        "admin.edit_episode": {"title": ""},
        "admin.new_episode": {"title": ""},
        "admin.add_item": {"questions-new-prompt": "A new study question?"},
        "admin.save_item": {"questions-1-prompt": "A reworded study question?"},
        "admin.move_item": {"direction": "down"},
        "admin.feed_import": {},
        "admin.reply_inquiry": {"reply": "Thank you for writing."},
        "admin.inquiry_status": {"status": "closed"},
        "auth.login": {"email": "nobody@example.org", "password": "not the password"},
        "auth.register": {
            "email": "brand.new@example.org", "display_name": "Brand New",
            "password": "a brand new passphrase", "confirm": "a brand new passphrase",
        },
        "auth.reset_request": {"email": "nobody@example.org"},
        "auth.reset_with_token": {"password": "a brand new passphrase", "confirm": "different"},
        "auth.change_password": {
            "current_password": "not the password", "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
        "catalog.set_language": {"language": "en"},
        "catalog.mark_listened": {"listened": "1"},
        "inquiries.contact": {},
        "courses.new": {
            "title": "A new course", "code": "NEW1", "time_zone": "UTC", "placement": "educator",
        },
        "courses.enrol": {"code": world.ids["enrol_code"]},
        "courses.settings": {"title": "Renamed course", "time_zone": "UTC", "placement": "choice"},
        "courses.add_learners": {"emails": "someone.new@example.org"},
        "courses.add_educator": {"email": "nobody@example.org"},
        "courses.create_group": {"name": "Another course group"},
        "courses.placement": {"placement": "choice"},
        "courses.place": {"group_id": ""},
        "courses.choose_group": {"group_id": ""},
        "courses.new_assignment": {"episode_id": str(world.ids["episode"]), "opens_at": now,
                                   "due_at": "2030-01-20T10:00"},
        "courses.edit_assignment": {"episode_id": str(world.ids["episode"]), "opens_at": now,
                                    "due_at": "2030-01-21T10:00"},
        "courses.extensions": {"user_id": str(world.users["member"].id),
                               "due_at": "2031-01-01T10:00"},
        "groups.new": {"name": "A new group", "join_policy": "open"},
        "groups.join": {"message": "Let me in, please."},
        "groups.settings": {"name": "Renamed group", "join_policy": "request"},
        "groups.member_action": {"message": "Welcome."},
        "groups.question": {"body": "An answer from the matrix."},
        "groups.add_question": {"prompt": "Another extra question?"},
        "groups.edit_question": {"prompt": "A reworded extra question?"},
        "groups.move_question": {"direction": "up"},
        "groups.edit_answer": {"body": "An edited answer."},
        "groups.edit_reply": {"body": "An edited reply."},
        "groups.reply": {"body": "A reply from the matrix."},
        "groups.endorse_answer": {"endorse": "1"},
        "discussion.new_thread": {"title": "A new thread", "body": "Its first post.",
                                  "episode": "0"},
        "discussion.thread": {"body": "A post from the matrix."},
        "discussion.edit_post": {"body": "An edited post."},
        "discussion.follow": {"level": "muted"},
        "discussion.change": {"reason": ""},
        "moderation.flag": {"reason": "other", "text": "Please look."},
        "moderation.hide": {"reason": "Off topic."},
        "moderation.ban": {"message": "Goodbye."},
    }
    return forms.get(endpoint, {})
