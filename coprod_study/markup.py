"""The one place user text becomes HTML: Markdown -> bleach allowlist -> safe links."""

import re
import threading
from collections.abc import Iterable
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup, escape

MAX_MARKDOWN_LENGTH = 20_000

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
        "a", "h3", "h4", "h5", "h6", "hr", "span",
    }
)
# Mentions: @[Display Name] for any name, or @Name for a name without spaces.
# A one-word name ends on a letter or digit, so "@Maryam." names Maryam.
MENTION_RE = re.compile(r"@\[([^\]\n]{1,80})\]|(?<![\w@])@(\w[\w.-]{0,78}\w)")
MENTION_CLASS = "mention"


def _span_attribute(tag, name, value) -> bool:
    # Only the app's own mention marker; raw HTML is off, so nobody can type one.
    return name == "class" and value == MENTION_CLASS


ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "ol": ["start"], "span": _span_attribute}
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


def mentioned_names(text: str | None) -> set[str]:
    """The names written as mentions in `text`, lowercased."""
    names = {(a or b).strip().lower() for a, b in MENTION_RE.findall(text or "")}
    names.discard("")
    return names


def _render_mention(renderer, tokens, idx, options, env):
    return f'<span class="{MENTION_CLASS}">@{escape(tokens[idx].content)}</span>'


_parser.add_render_rule("mention", _render_mention)


def _mark_mentions(tokens, names: frozenset[str]):
    """Split text tokens around mentions of `names` (outside links and code)."""
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        children, in_link = [], 0
        for child in token.children:
            if child.type == "link_open":
                in_link += 1
            elif child.type == "link_close":
                in_link -= 1
            if child.type != "text" or in_link:
                children.append(child)
                continue
            start = 0
            for match in MENTION_RE.finditer(child.content):
                name = (match.group(1) or match.group(2)).strip()
                if name.lower() not in names:
                    continue
                if match.start() > start:
                    children.append(_text_token(child.content[start:match.start()]))
                mention = Token("mention", "span", 0)
                mention.content = name
                children.append(mention)
                start = match.end()
            if start == 0:
                children.append(child)
            elif start < len(child.content):
                children.append(_text_token(child.content[start:]))
        token.children = children
    return tokens


def _text_token(content: str) -> Token:
    token = Token("text", "", 0)
    token.content = content
    return token


def _set_rel(attrs, new=False):
    href = attrs.get((None, "href"), "")
    if not href:
        attrs.pop((None, "rel"), None)
        return attrs
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


_local = threading.local()


def _cleaner() -> bleach.Cleaner:
    """This thread's Cleaner: one is not safe to share between threads (bleach says so;
    under gunicorn's gthread workers a shared one failed with IndexError in html5lib)."""
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
        )
    return cleaner


def render_markdown(text: str | None, mentions: Iterable[str] = ()) -> Markup:
    """Render a person's Markdown to sanitized HTML, safe to store and show as is.

    `mentions` are the names (any case) whose @-mentions show highlighted: the
    members of the group a post is written in."""
    if not text:
        return Markup("")
    tokens = _shift_headings(_parser.parse(text))
    names = frozenset(name.lower() for name in mentions)
    if names:
        tokens = _mark_mentions(tokens, names)
    html = _parser.renderer.render(tokens, _parser.options, {})
    return Markup(_cleaner().clean(html).strip())  # noqa: S704 (bleach allowlist output)


def sanitized(html: str | None) -> Markup:
    """Jinja filter for HTML that render_markdown() produced when it was written."""
    return Markup(html or "")  # noqa: S704 (stored output of render_markdown)
