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

import time
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, get_flashed_messages, request, session
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from coprod_study import csrf_slots, data_versions
from coprod_study.extensions import db
from coprod_study.fragments import BoundedCache


@dataclass(frozen=True)
class _Kept:
    html: str
    depends: tuple  # ((table, counter), …)
    expires: float


def _cost(entry: _Kept) -> int:
    return 2 * len(entry.html) + 64 * len(entry.depends) + 300


def cache_for(app) -> BoundedCache | None:
    """The process's kept pages; None when PAGE_CACHE_MB is 0."""
    budget = app.config["PAGE_CACHE_MB"] * 1024 * 1024
    if budget <= 0:
        return None
    cache = app.extensions.get("kept_pages")
    if cache is None:
        cache = app.extensions["kept_pages"] = BoundedCache(budget, cost=_cost)
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
