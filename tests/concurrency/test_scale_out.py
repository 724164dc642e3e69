"""Scale-out smoke: two gunicorn processes on two ports, one PostgreSQL, one Redis, no local state."""

import uuid

import pytest
import requests

from tests import databases, servers
from tests.factories import DEFAULT_PASSWORD

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not databases.POSTGRES_URL,
        reason="scale-out needs PostgreSQL: set TEST_DATABASE_URL (a private database is made)",
    ),
]

LIMIT = 4


@pytest.fixture
def two_servers(tmp_path):
    databases.drop_stale()
    name = databases.private_name("scale")
    url = databases.create(name)
    try:
        with servers.redis_database() as redis_url:
            # Each app server has its own (empty) instance folder: nothing is shared on disk.
            envs = [
                servers.environment(
                    tmp_path / f"instance-{number}", url,
                    REDIS_URL=redis_url, COPROD_LOGIN_FAILURE_LIMIT=f"{LIMIT}/minute",
                )
                for number in (1, 2)
            ]
            servers.cli(envs[0], "init-db")  # migrations run once per deploy
            seeded = _seed(url, tmp_path / "seed-instance")
            with servers.Gunicorn(envs[0], tmp_path, workers=1, name="one") as one, \
                    servers.Gunicorn(envs[1], tmp_path, workers=1, name="two") as two:
                yield one, two, seeded, redis_url
    finally:
        databases.drop(name)


def _seed(url: str, instance) -> dict:
    from coprod_study import create_app
    from coprod_study.discussion import service as discussion
    from coprod_study.extensions import db
    from tests import factories as f

    app = create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": servers.SECRET_KEY, "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        facilitator = f.make_user(role="facilitator", email="scale-facilitator@example.org")
        group = f.make_group(facilitator, name="Scale group")
        member = f.add_member(group, f.make_user(email="scale-member@example.org"))
        thread = discussion.create_thread(facilitator, group, title="Across servers", body="Hi.")
        # No notification of the post: its unread count would change the page's key,
        # and the test would not show that server two learns of the write itself.
        discussion.set_follow(facilitator, thread, "muted")
        seeded = {"group": group.slug, "thread": thread.id, "member": member.email,
                  "facilitator": facilitator.email}
        db.session.remove()
        db.engine.dispose()
    return seeded


def test_a_post_made_through_one_server_is_seen_through_the_other(two_servers):
    one, two, seeded, _ = two_servers
    thread_path = f"/groups/{seeded['group']}/threads/{seeded['thread']}"
    marker = f"posted through server one {uuid.uuid4().hex[:8]}"
    # Another person reads the thread on the other server first, so that its worker
    # keeps the page whole (coprod_study.page_cache).
    reader = servers.signed_in_session(two.url, seeded["facilitator"], DEFAULT_PASSWORD)
    for _ in range(4):
        assert marker not in reader.get(two.url + thread_path, timeout=30).text
    writer = servers.signed_in_session(one.url, seeded["member"], DEFAULT_PASSWORD)
    response = writer.post(
        one.url + thread_path,
        data={"body": marker, "csrf_token": servers.csrf_of(writer, one.url)},
        allow_redirects=False, timeout=30,
    )
    assert response.status_code == 302
    # They read it there at once: server two's kept page is not served.
    for _ in range(4):
        assert marker in reader.get(two.url + thread_path, timeout=30).text
    # And the writer's session cookie, made by server one, works on server two.
    carried = requests.Session()
    carried.cookies.update(writer.cookies)
    page = carried.get(two.url + "/account", allow_redirects=False, timeout=30)
    assert page.status_code == 200
    assert seeded["member"] in page.text
    # Both servers served it, from their own processes.
    assert one.served() and two.served()
    assert {pid for pid, *_ in one.served()}.isdisjoint({pid for pid, *_ in two.served()})


def test_a_rate_limit_is_counted_across_both_servers(two_servers):
    one, two, seeded, redis_url = two_servers
    servers.flush_redis(redis_url)
    statuses = []
    for number in range(LIMIT + 2):
        server = (one, two)[number % 2]
        with requests.Session() as session:
            page = session.get(server.url + "/auth/login", timeout=30)
            token = servers.CSRF_META.search(page.text).group(1)
            response = session.post(
                server.url + "/auth/login",
                data={"email": seeded["member"], "password": "not the password",
                      "csrf_token": token},
                allow_redirects=False, timeout=30,
            )
            statuses.append(("one" if server is one else "two", response.status_code))
    # Each server alone saw only half the failures; together they reached the limit.
    assert [status for _, status in statuses] == [400] * LIMIT + [429, 429], statuses
    assert {name for name, status in statuses if status == 429} == {"one", "two"}
