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
    """`old` replaced by `new` inside the token tags only.

    The same as running _TOKEN_TAG over the whole page and replacing inside each
    match, but it looks only where `old` occurs (str.find), so a long page with a
    few token tags costs a few searches instead of a regular-expression pass over
    every character: the tag around an occurrence runs from the last "<" before it
    to the first ">" after it, and is swapped only if it is a whole token tag."""
    if not old or old not in html:
        return html
    parts = []
    done = 0
    at = html.find(old)
    while at != -1:
        start = html.rfind("<", done, at)
        end = html.find(">", at)
        if (start != -1 and end != -1 and html.find(">", start, at) == -1
                and _TOKEN_TAG.fullmatch(html, start, end + 1)):
            parts += [html[done:start], html[start:end + 1].replace(old, new)]
            done = end + 1
            at = html.find(old, done)
        else:
            at = html.find(old, at + len(old))
    parts.append(html[done:])
    return "".join(parts)


def fill(html: str, token: str) -> str:
    """Kept HTML with the reader's `token` in the app's token tags."""
    return _swap_in_tags(html, PLACEHOLDER, token)


def hollow(html: str, token: str) -> str:
    """HTML just built for one reader, with their `token` taken out of the app's
    token tags (to be kept and filled for another reader later)."""
    return _swap_in_tags(html, token, PLACEHOLDER)
