"""The sign-in limit holds across processes: gunicorn with 2 workers, Redis as the storage."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests import servers

pytestmark = pytest.mark.slow

LIMIT = 4  # even: the failures go in pairs
EMAIL = "limited@example.org"
PASSWORD = "the right passphrase for this test"
MIN_ROUNDS = 3
MAX_ROUNDS = 20


def _prepared(base: str) -> tuple[requests.Session, str]:
    """A new cookie session with the CSRF token of its own sign-in page."""
    session = requests.Session()
    page = session.get(base + "/auth/login", timeout=30)
    return session, servers.CSRF_META.search(page.text).group(1)


def _send(base: str, prepared: tuple[requests.Session, str], password: str) -> requests.Response:
    session, token = prepared
    with session:
        return session.post(
            base + "/auth/login",
            data={"email": EMAIL, "password": password, "csrf_token": token},
            headers={"Connection": "close"},  # a new connection for every attempt
            allow_redirects=False,
            timeout=30,
        )


def _attempt(base: str, password: str) -> requests.Response:
    return _send(base, _prepared(base), password)


def _failed_pair(base: str, pool: ThreadPoolExecutor) -> list[requests.Response]:
    """Two failed sign-ins sent at once: while one worker checks a password (slow on
    purpose) the other worker takes the second, so the count is split between them."""
    prepared = [_prepared(base), _prepared(base)]
    return list(pool.map(lambda p: _send(base, p, "a wrong passphrase"), prepared))


@pytest.fixture
def limited_server(tmp_path):
    with servers.redis_database() as redis_url:
        instance = tmp_path / "instance"
        env = servers.environment(
            instance,
            REDIS_URL=redis_url,
            COPROD_LOGIN_FAILURE_LIMIT=f"{LIMIT}/minute",
        )
        servers.cli(env, "init-db", "--no-sample")
        servers.cli({**env, "COPROD_ADMIN_PASSWORD": PASSWORD}, "create-admin", EMAIL)
        with servers.Gunicorn(env, tmp_path, workers=2) as server:
            yield server, redis_url


def test_the_sign_in_limit_holds_whichever_worker_answers(limited_server, capsys):
    server, redis_url = limited_server
    workers = set(server.worker_pids())
    assert len(workers) == 2
    split_rounds = 0
    refusing = set()
    rounds = 0
    # Rounds until both workers have refused (which worker takes attempt N+1 is up to
    # the kernel), each round with its failures split between the two workers.
    with ThreadPoolExecutor(2) as pool:
        while rounds < MIN_ROUNDS or refusing != workers:
            assert rounds < MAX_ROUNDS, ("one worker answered every refusal", refusing)
            rounds += 1
            servers.flush_redis(redis_url)
            first_log_line = len(server.served())
            for _ in range(LIMIT // 2):
                for response in _failed_pair(server.url, pool):
                    assert response.status_code == 400, response.status_code
            # Attempt N+1 is refused, even with the right password, and so are the next ones.
            for _ in range(3):
                response = _attempt(server.url, PASSWORD)
                assert response.status_code == 429, response.status_code
                assert int(response.headers["Retry-After"]) > 0
                assert re.search(r"Try again in \d+ seconds", response.text)
                assert not _signed_in(server.url, response)
            posts = [row for row in server.served()[first_log_line:] if row[1] == "POST"]
            assert sorted(status for _, _, _, status in posts) == [400] * LIMIT + [429] * 3
            counted = {pid for pid, _, _, status in posts if status == 400}
            if counted == workers:
                split_rounds += 1
            refusing |= {pid for pid, _, _, status in posts if status == 429}
    # Each worker saw at most part of the failures, yet every attempt N+1 was refused.
    assert split_rounds >= max(1, rounds // 2), (split_rounds, rounds)
    with capsys.disabled():
        print(f"\nsign-in limit {LIMIT}/minute across 2 gunicorn workers with Redis: {rounds} rounds, "
              f"attempt {LIMIT + 1} answered 429 every time; failures counted in both workers in "
              f"{split_rounds} rounds; both workers refused")


def _signed_in(base: str, response: requests.Response) -> bool:
    with requests.Session() as session:
        session.cookies.update(response.cookies)
        return session.get(base + "/account", allow_redirects=False, timeout=30).status_code == 200
