"""Rendered posts, kept per process and found again by everything their HTML depends on.

An answer, reply or thread post renders the same for every reader who has the
same rights over it, in the same language and time zone; rendering some sixty
of them is most of a question page's time. The key of a kept post holds each
field of the post that its HTML shows and each answer that `policy` gives for
this reader, so an edited, hidden or deleted post, a renamed author or a reader
with other rights never finds an old entry: nothing needs invalidating, and an
entry nobody asks for again falls out of the bounded cache.

The CSRF token in a post's forms belongs to the session, so the kept HTML holds
a placeholder (coprod_study.csrf_slots) that is filled with the reader's token
on the way out.
"""

import threading
from collections import OrderedDict

from flask import current_app, render_template
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from coprod_study import csrf_slots, policy

TEMPLATE = "groups/_post.html"


class BoundedCache:
    """A least-recently-used mapping that holds at most `budget` bytes of HTML (its keys
    are counted as much again: they carry the texts the HTML shows), safe across threads.
    `cost` measures other kinds of value (search keeps its results in one)."""

    def __init__(self, budget: int, cost=None):
        self.budget = budget
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
            if value is None or (valid is not None and not valid(value)):
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

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


def cache_for(app) -> BoundedCache:
    cache = app.extensions.get("post_fragments")
    if cache is None:
        budget = app.config["FRAGMENT_CACHE_MB"] * 1024 * 1024
        cache = app.extensions["post_fragments"] = BoundedCache(budget)
    return cache


def _key(viewer, group, post, kind: str, can_post: bool) -> tuple:
    rights = (
        policy.author_label(viewer, group, post),
        policy.can_see_hidden_text(viewer, group, post),
        policy.can_see_history(viewer, group, post),
        policy.can_edit_post(viewer, post),
        policy.can_flag(viewer, post),
        policy.can_moderate(viewer, group),
        bool(can_post),
    )
    shown = (
        post.created_at,
        post.edited_at,
        post.deleted_at,
        post.hidden_at,
        post.hidden_reason,
        post.anonymous,
        getattr(post, "segment_id", None),
        getattr(post, "thread_id", None),
        post.body_html,
    )
    return (kind, post.id, group.id, group.slug, str(get_locale()), str(get_timezone()), rights,
            shown)


def post_html(viewer, group, post, kind: str, can_post: bool, keep_marker: bool = False) -> Markup:
    """The HTML of one answer ('answer'), reply ('reply') or thread post ('post').

    With `keep_marker` the CSRF placeholder stays in (the caller keeps the HTML around
    it and puts the reader's token in at the end).
    """
    cache = cache_for(current_app)
    key = _key(viewer, group, post, kind, can_post)
    html = cache.get(key)
    if html is None:
        html = render_template(
            TEMPLATE, post=post, kind=kind, group=group, can_post=can_post,
            post_csrf=csrf_slots.PLACEHOLDER,
        )
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
    key = None
    if fingerprint is not None:
        viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
        key = (
            "answers", group.id, group.slug, group.allow_anonymous,
            question.study_question_id, question.group_question_id, question.number,
            question.prompt, max(1, page), per_page,
            policy.can_moderate(viewer, group), policy.can_post_in_group(viewer, group),
            policy.can_see_history(viewer, group),
            # Their own posts show edit links (and no flag form) to the reader alone.
            viewer_id if viewer_id in fingerprint.authors else None,
            str(get_locale()), str(get_timezone()), fingerprint.rows,
        )
        html = cache.get(key)
        if html is not None:
            page_view = answer_service.page_from_fingerprint(state, fingerprint, page, per_page)
            return page_view, Markup(csrf_slots.fill(html, generate_csrf()))  # noqa: S704
    if fingerprint is not None:
        page_view = answer_service.page_from_ids(state, fingerprint, page, per_page)
    else:
        page_view = answer_service.question_page(
            viewer, group, question, page, per_page, state=state
        )
    html = str(render(page_view))
    if key is not None and page_view.page == max(1, page):
        cache.put(key, html)
    return page_view, Markup(csrf_slots.fill(html, generate_csrf()))  # noqa: S704
