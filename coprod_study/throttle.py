"""Counting limits on our own keys (failed sign-ins, posts) with Flask-Limiter's storage."""

import time

from flask import current_app
from limits import parse

from coprod_study.extensions import limiter


def _enabled() -> bool:
    return current_app.config.get("RATELIMIT_ENABLED", True)


def retry_after(limit: str, *keys: str) -> int:
    """Seconds until every key is under `limit` again; 0 when none is over it."""
    if not _enabled():
        return 0
    item = parse(limit)
    strategy = limiter.limiter
    wait = 0
    for key in keys:
        if not strategy.test(item, "coprod", key):
            reset_at, _remaining = strategy.get_window_stats(item, "coprod", key)
            wait = max(wait, int(reset_at - time.time()) + 1)
    return wait


def hit(limit: str, *keys: str) -> None:
    if not _enabled():
        return
    item = parse(limit)
    for key in keys:
        limiter.limiter.hit(item, "coprod", key)
