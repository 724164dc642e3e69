"""The one place user text becomes HTML: Markdown -> bleach allowlist -> safe links."""

from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markupsafe import Markup

MAX_MARKDOWN_LENGTH = 20_000

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h3", "h4", "h5", "h6", "hr",
    }
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

# CommonMark with raw HTML off: any HTML a person types is shown as text.
# Images are off too, so `![alt](src)` stays readable text instead of vanishing.
_parser = MarkdownIt("commonmark", {"html": False, "linkify": True})
_parser.enable("linkify")
_parser.disable("image")


def _shift_headings(tokens):
    # Pages own h1 and h2; a person's "# Title" becomes an h3 inside a post.
    for token in tokens:
        if token.type in {"heading_open", "heading_close"}:
            level = min(int(token.tag[1]) + 2, 6)
            token.tag = f"h{level}"
    return tokens


def _set_rel(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href:
        attrs.pop((None, "rel"), None)
        return attrs
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
)


def render_markdown(text: str | None) -> Markup:
    """Render a person's Markdown to sanitized HTML, safe to store and show as is."""
    if not text:
        return Markup("")
    tokens = _shift_headings(_parser.parse(text))
    html = _parser.renderer.render(tokens, _parser.options, {})
    return Markup(_cleaner.clean(html).strip())  # noqa: S704 (bleach allowlist output)


def sanitized(html: str | None) -> Markup:
    """Jinja filter for HTML that render_markdown() produced when it was written."""
    return Markup(html or "")  # noqa: S704 (stored output of render_markdown)
