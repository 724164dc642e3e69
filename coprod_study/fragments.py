"""Rendered posts, kept per process and found again by everything their HTML depends on.

An answer, reply or thread post renders the same for every reader who has the
same rights over it, in the same language and time zone; rendering some sixty
of them is most of a question page's time. The template reads a small view of
the post for this reader (posts.view.PostView: each field of the post its HTML
shows and each answer `policy` gives), and the kept HTML's key is that view,
so an edited, hidden or deleted post, a renamed author or a reader with other
rights never finds an old entry: nothing needs invalidating, and an entry
nobody asks for again falls out of the bounded cache.

The CSRF token in a post's forms belongs to the session, so the kept HTML holds
a placeholder (coprod_study.csrf_slots) that is filled with the reader's token
on the way out.
"""

import threading
from collections import OrderedDict

from flask import current_app, render_template
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from coprod_study import csrf_slots
from coprod_study.ops import metrics, shared_cache
from coprod_study.posts.view import key_of, post_view, section_view

TEMPLATE = "groups/_post.html"


class BoundedCache:
    """A least-recently-used mapping that holds at most `budget` bytes of HTML (its keys
    are counted as much again: they carry the texts the HTML shows), safe across threads.
    `cost` measures other kinds of value (search keeps its results in one). A cache with
    a `name` counts its lookups in the metrics (coprod_study.ops.metrics)."""

    def __init__(self, budget: int, cost=None, name: str | None = None):
        self.budget = budget
        self.name = name
        if cost is not None:
            self.cost = cost
        self.used = 0
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def cost(value: str) -> int:
        return 2 * len(value) + 200

    def get(self, key, valid=None):
        """The value kept under `key`; None (a miss) when there is none, or when
        `valid(value)` says it may no longer be used."""
        with self._lock:
            value = self._items.get(key)
            hit = value is not None and (valid is None or valid(value))
            if hit:
                self._items.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
        if self.name:
            metrics.cache_lookup(self.name, hit)
        return value if hit else None

    def put(self, key, value: str) -> None:
        cost = self.cost(value)
        if cost > self.budget:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.used -= self.cost(old)
            self._items[key] = value
            self.used += cost
            while self.used > self.budget:
                _key, dropped = self._items.popitem(last=False)
                self.used -= self.cost(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.used = 0

    def __len__(self) -> int:
        return len(self._items)


def cache_for(app):
    """The rendered posts: the process's BoundedCache, or the store in Redis that every
    process shares (coprod_study.ops.shared_cache)."""
    budget = app.config["FRAGMENT_CACHE_MB"] * 1024 * 1024
    if budget > 0 and shared_cache.wanted(app):
        return shared_cache.store_for(
            app, "fragment",
            lambda html: (html.encode(), app.config.get("FRAGMENT_CACHE_SECONDS", 86400)),
            bytes.decode, local=lambda: BoundedCache(budget),
        )
    cache = app.extensions.get("post_fragments")
    if cache is None:
        cache = app.extensions["post_fragments"] = BoundedCache(budget, name="fragment")
    return cache


def post_html(viewer, group, post, kind: str, can_post: bool, keep_marker: bool = False) -> Markup:
    """The HTML of one answer ('answer'), reply ('reply') or thread post ('post').

    With `keep_marker` the CSRF placeholder stays in (the caller keeps the HTML around
    it and puts the reader's token in at the end).
    """
    cache = cache_for(current_app)
    view = post_view(viewer, group, post, kind, can_post)
    key = key_of(view)
    html = cache.get(key)
    if html is None:
        html = render_template(TEMPLATE, view=view, post_csrf=csrf_slots.PLACEHOLDER)
        cache.put(key, html)
    if keep_marker:
        return Markup(html)  # noqa: S704 (rendered by Jinja)
    return Markup(csrf_slots.fill(html, generate_csrf()))  # noqa: S704 (rendered by Jinja)


def answers_section(viewer, group, question, state, page: int, per_page: int, render):
    """One page of a question's answers: (QuestionPage, HTML).

    Readers who see their peers' answers share the page's HTML when they have
    the same rights over it; two plain queries (answers.answers_fingerprint) tell
    whether the kept HTML still shows the page as it is, so on a hit the answers
    are neither loaded nor rendered. `render(page)` renders the section, with
    the CSRF placeholder in its forms. On a miss the answers the fingerprint named
    are loaded in one more query.
    """
    from coprod_study.groups import answers as answer_service

    cache = cache_for(current_app)
    fingerprint = None
    if state.sees_peers:
        fingerprint = answer_service.answers_fingerprint(
            viewer, group, question, state, page, per_page
        )
    section = section_view(
        viewer, group, question, page, per_page,
        *((fingerprint.authors, fingerprint.rows) if fingerprint is not None else ()),
    )
    key = key_of(section) if fingerprint is not None else None
    if key is not None:
        html = cache.get(key)
        if html is not None:
            page_view = answer_service.page_from_fingerprint(state, fingerprint, page, per_page)
            page_view.section = section
            return page_view, Markup(csrf_slots.fill(html, generate_csrf()))  # noqa: S704
    if fingerprint is not None:
        page_view = answer_service.page_from_ids(state, fingerprint, page, per_page)
    else:
        page_view = answer_service.question_page(
            viewer, group, question, page, per_page, state=state
        )
    page_view.section = section
    html = str(render(page_view))
    if key is not None and page_view.page == max(1, page):
        cache.put(key, html)
    return page_view, Markup(csrf_slots.fill(html, generate_csrf()))  # noqa: S704
