"""Kept pages and rendered posts in Redis, so every process and host finds what one of them built.

With REDIS_URL set (or SHARED_CACHE true), coprod_study.page_cache and
coprod_study.fragments keep their entries here instead of in each process's
memory; a second host's first request for a page is then a hit. What makes an
entry current does not change: a kept page carries the table counters it was
built from, checked against the database at each request, so a write through
any host makes it stale on all of them; a rendered post's key holds everything
its HTML shows.

Keys are a hash of the entry's key under a prefix that names the release (a hash
of the package's code and templates), so hosts running another release never
share an entry. Every entry has a time to live (a kept page its
PAGE_CACHE_SECONDS, a post FRAGMENT_CACHE_SECONDS); Redis should run with
`maxmemory` and `maxmemory-policy volatile-lru`, which evicts only keys with a
time to live: these, never the task queue's.

Each process still keeps what it built or fetched in its own memory as well
(the same bounded caches as without Redis), and looks there first: a rendered
post's entry never goes stale, and a kept page's is checked against the
counters whichever copy it is, so the memory copy is as good as Redis' and
saves a round trip (a thread of 40 posts would otherwise cost 40).

When Redis does not answer, a lookup there is a miss and nothing is kept there;
the page is built as if there were no shared cache.
"""

import functools
import hashlib
import logging
import threading
import time

log = logging.getLogger(__name__)
_WARN_EVERY_SECONDS = 60


@functools.cache
def release_token() -> str:
    """A short hash of the package's Python files and templates: the same on every host
    that runs this release."""
    from coprod_study import PACKAGE_DIR, TEMPLATE_DIR

    digest = hashlib.sha256()
    for folder, pattern in ((PACKAGE_DIR, "**/*.py"), (TEMPLATE_DIR, "**/*.html")):
        for path in sorted(folder.glob(pattern)):
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def wanted(app) -> bool:
    setting = app.config.get("SHARED_CACHE")
    if setting is None:
        return bool(app.config.get("REDIS_URL"))
    return bool(setting) and bool(app.config.get("REDIS_URL"))


def client_for(app):
    """The app's Redis client for the caches (one connection pool per app)."""
    client = app.extensions.get("shared_cache_redis")
    if client is None:
        import redis

        client = app.extensions["shared_cache_redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"], socket_timeout=0.5, socket_connect_timeout=0.5,
        )
    return client


class RedisStore:
    """The get/put of coprod_study.fragments.BoundedCache, over Redis.

    `encode(value)` gives (bytes, seconds to keep); `decode(bytes)` the value back.
    """

    def __init__(self, client, namespace: str, encode, decode, name: str | None = None,
                 local=None):
        self.client = client
        # This process's own copy, looked at first (a BoundedCache, without a name: the
        # lookups are counted here, once).
        self.local = local
        self.namespace = namespace
        self.encode = encode
        self.decode = decode
        self.name = name
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._warned_at = 0.0

    def redis_key(self, key) -> str:
        # repr() of the keys used here (str, int, bool, None, datetime, tuples of them)
        # is the same in every process.
        return self.namespace + hashlib.sha256(repr(key).encode()).hexdigest()

    def _count(self, hit: bool) -> None:
        from coprod_study.ops import metrics

        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1
        if self.name:
            metrics.cache_lookup(self.name, hit)

    def _warn(self, action: str) -> None:
        now = time.monotonic()
        if now - self._warned_at > _WARN_EVERY_SECONDS:
            self._warned_at = now
            log.warning("Redis did not answer (%s); serving without the shared cache", action,
                        exc_info=True)

    def get(self, key, valid=None):
        import redis

        if self.local is not None:
            value = self.local.get(key, valid=valid)
            if value is not None:
                self._count(True)
                return value
        try:
            raw = self.client.get(self.redis_key(key))
        except redis.RedisError:
            self._warn("get")
            raw = None
        value = self.decode(raw) if raw is not None else None
        hit = value is not None and (valid is None or valid(value))
        self._count(hit)
        if hit and self.local is not None:
            self.local.put(key, value)
        return value if hit else None

    def put(self, key, value) -> None:
        import redis

        if self.local is not None:
            self.local.put(key, value)
        data, seconds = self.encode(value)
        try:
            self.client.set(self.redis_key(key), data, ex=max(1, int(seconds)))
        except redis.RedisError:
            self._warn("set")

    def clear(self) -> None:
        """Drop this store's entries (tests, and an operator after a bad deploy)."""
        import redis

        if self.local is not None:
            self.local.clear()
        try:
            for found in self.client.scan_iter(match=self.namespace + "*", count=500):
                self.client.delete(found)
        except redis.RedisError:
            self._warn("clear")

    def __len__(self) -> int:
        import redis

        try:
            return sum(1 for _ in self.client.scan_iter(match=self.namespace + "*", count=500))
        except redis.RedisError:
            return 0


def store_for(app, kind: str, encode, decode, local=None) -> RedisStore:
    """The shared store of `kind` ("page", "fragment") for this app; `local` makes the
    process's own bounded cache in front of it."""
    name = f"shared_cache_{kind}"
    store = app.extensions.get(name)
    if store is None:
        prefix = app.config.get("SHARED_CACHE_PREFIX") or "coprod"
        store = app.extensions[name] = RedisStore(
            client_for(app), f"{prefix}:{release_token()}:{kind}:", encode, decode, name=kind,
            local=local() if local else None,
        )
    return store
