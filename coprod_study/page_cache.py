"""Whole pages kept per reader, served again only while nothing they were built from has changed.

A page is kept under the reader (who they are, as the navigation shows them),
the address, language and time zone. With it go the counters
(coprod_study.data_versions) of every table its queries read, taken before
the first of those queries ran. The next request gets all counters with the
signed-in person (one column of the query that loads them; a visitor's request
reads them in a query of its own), runs the view's own checks (who may see the
group), and gets the kept HTML back only if none of those tables has been
written since, by this process or any other. Otherwise the page is built again
and kept anew.

What the page's own queries do not read is in the key (the reader's row and
unread count, loaded with the counters), or makes the page pass by the cache
(a message waiting to be shown). The CSRF token in the page's forms
belongs to the session: the kept HTML holds a placeholder in its place, only
inside the app's own token tags (coprod_study.csrf_slots). A kept
page also expires after PAGE_CACHE_SECONDS, since time passes without a
write (a course's due date, a write made outside the app).
"""

import json
import math
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, g, get_flashed_messages, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from coprod_study import csrf_slots, data_versions
from coprod_study.extensions import db
from coprod_study.fragments import BoundedCache
from coprod_study.ops import shared_cache


@dataclass(frozen=True)
class _Kept:
    html: str
    depends: tuple  # ((table, counter), …)
    expires: float


def _cost(entry: _Kept) -> int:
    return 2 * len(entry.html) + 64 * len(entry.depends) + 300


def _encode(entry: _Kept) -> tuple[bytes, float]:
    seconds = math.ceil(entry.expires - time.monotonic())
    return json.dumps({"html": entry.html, "depends": entry.depends}).encode(), seconds


def _decode(data: bytes) -> _Kept:
    # Redis drops the entry when its time is up.
    entry = json.loads(data)
    depends = tuple((name, counter) for name, counter in entry["depends"])
    return _Kept(entry["html"], depends, time.monotonic() + 1)


def cache_for(app):
    """The kept pages: the process's BoundedCache, or the store in Redis that every
    process shares (coprod_study.ops.shared_cache); None when PAGE_CACHE_MB is 0 or the
    table counters are off."""
    budget = app.config["PAGE_CACHE_MB"] * 1024 * 1024
    if budget <= 0 or not app.config.get("DATA_VERSIONS", True):
        return None
    if shared_cache.wanted(app):
        return shared_cache.store_for(
            app, "page", _encode, _decode, local=lambda: BoundedCache(budget, cost=_cost)
        )
    cache = app.extensions.get("kept_pages")
    if cache is None:
        cache = app.extensions["kept_pages"] = BoundedCache(budget, cost=_cost, name="page")
    return cache


def _reader() -> tuple:
    if not getattr(current_user, "is_authenticated", False):
        return ("visitor",)
    from coprod_study.notifications.service import unread_count

    user = current_user
    return (user.id, user.session_version, user.display_name, user.role, user.language,
            user.time_zone, unread_count(user))


class KeptPage:
    """What a view gets from `kept_page()`: `find()` before building the page,
    `keep(html)` after."""

    def __init__(self, cache, versions: dict | None, tables: set | None):
        self._cache = cache
        self._versions = versions
        self._tables = tables
        self._key = None

    def _current_key(self, extra) -> tuple:
        return (request.host_url, request.full_path, str(get_locale()), str(get_timezone()),
                _reader(), extra)

    def find(self, extra=()) -> str | None:
        """The kept page for this reader and address, when still current; else None.
        `extra`: anything else the page depends on that is not read from the database."""
        if self._cache is None:
            return None
        self._key = self._current_key(extra)
        entry = self._cache.get(self._key, valid=self._current)
        g.kept_page = "miss" if entry is None else "hit"
        if entry is None:
            return None
        return csrf_slots.fill(entry.html, generate_csrf())

    def _current(self, entry: _Kept) -> bool:
        versions = self._versions
        return entry.expires >= time.monotonic() and all(
            versions.get(name, 0) == counter for name, counter in entry.depends
        )

    def keep(self, html) -> str:
        """Keep the page just built (`find()` must have come first); returns it."""
        html = str(html)
        if self._cache is None or self._key is None or get_flashed_messages():
            # A page that showed a message (one the view itself flashed) is for now only.
            return html
        tables = set(self._tables) | {data_versions.EVERYTHING}
        depends = tuple(sorted((name, self._versions.get(name, 0)) for name in tables))
        seconds = current_app.config["PAGE_CACHE_SECONDS"]
        self._cache.put(
            self._key,
            _Kept(csrf_slots.hollow(html, generate_csrf()), depends, time.monotonic() + seconds),
        )
        return html


@contextmanager
def kept_page():
    """Open around the whole of a GET view: the authorization checks and the queries
    that build the page must run inside, so their tables are noted.

        with page_cache.kept_page() as kept:
            group = load_group(slug)          # may abort: nothing is kept
            return kept.find() or kept.keep(render_template(...))
    """
    cache = cache_for(current_app)
    # A message, or what someone typed into a form that was refused, is for this
    # one page only (coprod_study.forms.keep_draft).
    if cache is None or session.get("_flashes") or session.get("draft"):
        yield KeptPage(None, None, None)
        return
    versions = data_versions.current_versions(db.session)
    with data_versions.recording() as tables:
        yield KeptPage(cache, versions, tables)


def kept_part(key: tuple, build, also_depends=()) -> str:
    """A part of a page that is the same for every reader allowed to see it (the view
    has checked that before), kept under `key`, the language and the time zone with
    the counters of the tables `build()` read, plus `also_depends` (tables read
    before, whose rows the part shows). The progress table of a course is one: its
    educators share it, though each keeps their own whole page.

    The page around it notes the same tables (data_versions.note_read), so a page
    kept whole never outlives the part in it. With PAGE_CACHE_MB at 0 the part is
    built every time."""
    cache = cache_for(current_app)
    if cache is None:
        return str(build())
    versions = data_versions.current_versions(db.session)
    full_key = ("part", key, str(get_locale()), str(get_timezone()))
    now = time.monotonic()
    entry = cache.get(full_key, valid=lambda kept: kept.expires >= now and all(
        versions.get(name, 0) == counter for name, counter in kept.depends))
    if entry is not None:
        data_versions.note_read(name for name, _counter in entry.depends)
        return entry.html
    with data_versions.recording() as tables:
        html = str(build())
    tables = tables | set(also_depends) | {data_versions.EVERYTHING}
    data_versions.note_read(tables)
    depends = tuple(sorted((name, versions.get(name, 0)) for name in tables))
    seconds = current_app.config["PAGE_CACHE_SECONDS"]
    cache.put(full_key, _Kept(html, depends, now + seconds))
    return html


def init_app(app) -> None:
    """With PAGE_CACHE_HEADER set (COPROD_PAGE_CACHE_HEADER=1, benchmarks/http_bench.py
    sets it), every response says whether a kept page answered it: `X-Page-Cache: hit`,
    `miss` (looked for, built anew) or no header (the view keeps no page, or the cache
    was passed by). Off by default: nothing is registered."""
    wanted = app.config.get("PAGE_CACHE_HEADER", os.environ.get("COPROD_PAGE_CACHE_HEADER"))
    if not wanted or wanted in ("0", "false", "no"):
        return

    @app.after_request
    def page_cache_header(response):
        found = g.get("kept_page")
        if found:
            response.headers["X-Page-Cache"] = found
        return response
