"""Kept pages and rendered posts in Redis (coprod_study.ops.shared_cache): two apps on one database
and one Redis, as two hosts are, share them; a write through either makes a page stale for both."""

import re

import pytest
from sqlalchemy import select, update

from coprod_study import create_app, fragments, page_cache
from coprod_study.extensions import db
from coprod_study.fragments import BoundedCache
from coprod_study.models import Episode
from coprod_study.ops.shared_cache import RedisStore
from tests import factories as f
from tests import servers
from tests.conftest import _base_config, login

TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture
def redis_url():
    with servers.redis_database() as url:
        yield url


@pytest.fixture
def app_config(database_url, tmp_path, redis_url):
    return _base_config(tmp_path / "instance", database_url) | {"REDIS_URL": redis_url}


@pytest.fixture
def host_two(app_config, tmp_path):
    """A second app on the same database and Redis, with its own (empty) memory."""
    return create_app(app_config | {"INSTANCE_PATH": str(tmp_path / "host-two")})


def test_with_redis_the_caches_live_there_behind_the_process_memory(app, host_two):
    assert isinstance(page_cache.cache_for(app), RedisStore)
    assert isinstance(fragments.cache_for(app), RedisStore)
    assert isinstance(page_cache.cache_for(app).local, BoundedCache)
    assert isinstance(fragments.cache_for(app).local, BoundedCache)
    with host_two.app_context():
        assert page_cache.cache_for(host_two).namespace == page_cache.cache_for(app).namespace


def test_a_page_kept_by_one_host_is_a_hit_on_the_other(app, client, host_two, sample_catalog):
    other = host_two.test_client()
    first = client.get("/episodes")
    store = page_cache.cache_for(app)
    assert (store.hits, store.misses) == (0, 1)
    with host_two.app_context():
        theirs = page_cache.cache_for(host_two)
    second = other.get("/episodes")
    assert (theirs.hits, theirs.misses) == (1, 0)
    # The same page, each with the reader's own CSRF token (the kept HTML holds a slot).
    pages = [r.get_data(as_text=True) for r in (first, second)]
    tokens = [TOKEN.search(page).group(1) for page in pages]
    assert tokens[0] != tokens[1]
    assert pages[0].replace(tokens[0], "") == pages[1].replace(tokens[1], "")


def test_a_write_through_either_host_makes_the_page_stale_for_both(app, client, host_two,
                                                                   sample_catalog):
    other = host_two.test_client()
    client.get("/episodes")
    assert other.get("/episodes").status_code == 200
    with host_two.app_context():
        theirs = page_cache.cache_for(host_two)
        episode_id = db.session.scalar(select(Episode.id).order_by(Episode.number))
        db.session.execute(update(Episode).where(Episode.id == episode_id)
                           .values(title="Retitled on host two"))
        db.session.commit()
        db.session.remove()
    # Host one's requests share the fixture's session: end its read (a new request would).
    db.session.rollback()
    assert "Retitled on host two" in client.get("/episodes").get_data(as_text=True)
    db.session.execute(update(Episode).where(Episode.id == episode_id)
                       .values(title="Retitled on host one"))
    db.session.commit()
    misses = theirs.misses
    page = other.get("/episodes").get_data(as_text=True)
    assert "Retitled on host one" in page and "Retitled on host two" not in page
    assert theirs.misses == misses + 1


def test_rendered_posts_are_shared_too(app, client, host_two, sample_catalog):
    facilitator = f.make_user(role="facilitator")
    group = f.make_group(facilitator)
    member = f.add_member(group)
    episode, question = f.first_question(group)
    f.make_answer(group, member, question, body="Rendered once for both hosts")
    path = f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    login(client, facilitator)
    assert "Rendered once" in client.get(path).get_data(as_text=True)
    # Outside a request the fixture's session begins IMMEDIATE (it may write): end it,
    # so that host two's sign-in does not wait for it.
    email = facilitator.email
    db.session.rollback()
    other = host_two.test_client()
    login(other, email)
    with host_two.app_context():
        theirs = fragments.cache_for(host_two)
    hits = theirs.hits
    assert "Rendered once" in other.get(path).get_data(as_text=True)
    assert theirs.hits > hits


def test_without_redis_answering_pages_are_kept_in_the_process_alone(
        database_url, tmp_path, sample_catalog):
    down = create_app(_base_config(tmp_path / "down", database_url) | {
        "REDIS_URL": f"redis://127.0.0.1:{servers.free_port()}/0", "RATELIMIT_ENABLED": False,
    })
    client = down.test_client()
    for _ in range(2):
        response = client.get("/episodes")
        assert response.status_code == 200
        assert "<h1" in response.get_data(as_text=True)
    with down.app_context():
        store = page_cache.cache_for(down)
    # Built once, then found in the process's own memory, which stands in front of Redis.
    assert (store.hits, store.misses) == (1, 1)
    assert len(store.local) == 1


def test_the_shared_cache_can_be_turned_off_with_redis_set(database_url, tmp_path, redis_url):
    local = create_app(_base_config(tmp_path / "local", database_url) | {
        "REDIS_URL": redis_url, "SHARED_CACHE": False})
    with local.app_context():
        assert isinstance(page_cache.cache_for(local), BoundedCache)
        assert isinstance(fragments.cache_for(local), BoundedCache)


def test_a_host_finds_what_it_kept_in_its_own_memory_first(app, client, host_two, redis_url,
                                                           sample_catalog):
    client.get("/episodes")
    servers.flush_redis(redis_url)  # only host one's memory holds the page now
    store = page_cache.cache_for(app)
    hits = store.hits
    assert client.get("/episodes").status_code == 200
    assert store.hits == hits + 1
    other = host_two.test_client()
    other.get("/episodes")
    with host_two.app_context():
        assert page_cache.cache_for(host_two).misses == 1
