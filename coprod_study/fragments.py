"""Rendered posts, kept per process and found again by everything their HTML depends on.

An answer, reply or thread post renders the same for every reader who has the
same rights over it, in the same language and time zone; rendering some sixty
of them is most of a question page's time. The key of a kept post holds each
field of the post that its HTML shows and each answer that `policy` gives for
this reader, so an edited, hidden or deleted post, a renamed author or a reader
with other rights never finds an old entry: nothing needs invalidating, and an
entry nobody asks for again falls out of the bounded cache.

The CSRF token in a post's forms belongs to the session, so the kept HTML holds
a marker that is replaced with the reader's token on the way out.
"""

import threading
from collections import OrderedDict

from flask import current_app, render_template
from flask_babel import get_locale, get_timezone
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from coprod_study import policy

CSRF_MARKER = "csrf-token-of-this-reader"
TEMPLATE = "groups/_post.html"


class BoundedCache:
    """A least-recently-used mapping of at most `size` entries, safe across threads."""

    def __init__(self, size: int):
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def cache_for(app) -> BoundedCache:
    cache = app.extensions.get("post_fragments")
    if cache is None:
        cache = app.extensions["post_fragments"] = BoundedCache(app.config["POST_FRAGMENT_CACHE"])
    return cache


def _key(viewer, group, post, kind: str, can_post: bool) -> tuple:
    rights = (
        policy.author_label(viewer, group, post),
        policy.can_see_hidden_text(viewer, group, post),
        policy.can_see_history(viewer, group),
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


def post_html(viewer, group, post, kind: str, can_post: bool) -> Markup:
    """The HTML of one answer ('answer'), reply ('reply') or thread post ('post')."""
    cache = cache_for(current_app)
    key = _key(viewer, group, post, kind, can_post)
    html = cache.get(key)
    if html is None:
        html = render_template(
            TEMPLATE, post=post, kind=kind, group=group, can_post=can_post,
            post_csrf=CSRF_MARKER,
        )
        cache.put(key, html)
    return Markup(html.replace(CSRF_MARKER, generate_csrf()))  # noqa: S704 (rendered by Jinja)
