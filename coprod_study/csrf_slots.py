"""The reader's CSRF token in kept HTML: a per-process placeholder, swapped only inside the app's own tags.

Kept posts, answer sections and whole pages are shared by readers whose
sessions hold different CSRF tokens, so the HTML is kept with a placeholder
where the token goes. Two things keep user text out of the swap:

- the placeholder is a random value made when the process starts, so nobody can
  type it, and
- it is swapped only inside the tags templates write for the token: an
  `<input … name="csrf_token" …>` or the `<meta name="csrf-token" …>` in the
  head. User text never produces a tag (Markdown is rendered without HTML and
  sanitized; everything else is escaped), and an escaped attribute value cannot
  hold the quotes those tags start with.
"""

import re
import secrets

PLACEHOLDER = "csrf-slot-" + secrets.token_hex(16)

# A tag templates write for the token; `[^<>]` keeps a match inside one tag.
_TOKEN_TAG = re.compile(
    r'<(?:input|meta)\s[^<>]*?\bname="csrf[_-]token"[^<>]*>',
)


def _swap_in_tags(html: str, old: str, new: str) -> str:
    if not old or old not in html:
        return html
    return _TOKEN_TAG.sub(lambda tag: tag.group(0).replace(old, new), html)


def fill(html: str, token: str) -> str:
    """Kept HTML with the reader's `token` in the app's token tags."""
    return _swap_in_tags(html, PLACEHOLDER, token)


def hollow(html: str, token: str) -> str:
    """HTML just built for one reader, with their `token` taken out of the app's
    token tags (to be kept and filled for another reader later)."""
    return _swap_in_tags(html, token, PLACEHOLDER)
