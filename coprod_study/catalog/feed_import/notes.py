"""An item's HTML show notes as Markdown."""

import re
from html.parser import HTMLParser

# --- HTML show notes to Markdown -----------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")


_LINE_START_SPECIAL = re.compile(r"^(\s*)([#+>-]|\d+[.)])(?=\s|$)")


def _escape_markdown(text: str) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return _LINE_START_SPECIAL.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


class _MarkdownWriter(HTMLParser):
    """Turns (sanitized) show-note HTML into Markdown that render_markdown() understands."""

    BLOCKS = {"p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "tr"}
    SKIP = {"script", "style", "template", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.line: list[str] = []
        self.links: list[tuple[str | None, list[str]]] = []
        self.lists: list[list] = []
        self.skipping = 0
        self.quote = 0
        self.pre = 0

    def _out(self, text: str) -> None:
        (self.links[-1][1] if self.links else self.line).append(text)

    def _flush(self) -> None:
        text = "".join(self.line)
        self.line = []
        if not self.pre:
            text = re.sub(r"[ \t]+", " ", text)
            text = "\n".join(part.strip() for part in text.split("\n")).strip()
        if not text.strip():
            return
        if self.quote:
            text = "\n".join("> " + part for part in text.split("\n"))
        self.blocks.append(text)

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
            return
        if self.skipping:
            return
        attributes = dict(attrs)
        if tag in self.BLOCKS or tag in {"ul", "ol", "blockquote", "hr"}:
            self._flush()
        if tag == "pre":
            self.pre += 1
            self._out("```\n")
        elif tag == "blockquote":
            self.quote += 1
        elif tag in {"ul", "ol"}:
            self.lists.append([tag, 0])
        elif tag == "li":
            self._flush()
            depth = max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1][0] == "ol":
                self.lists[-1][1] += 1
                marker = f"{self.lists[-1][1]}."
            else:
                marker = "-"
            self._out("  " * depth + marker + " ")
        elif tag == "br":
            self._out("\n")
        elif tag == "hr":
            self.blocks.append("---")
        elif tag in {"strong", "b"}:
            self._out("**")
        elif tag in {"em", "i"}:
            self._out("*")
        elif tag == "code" and not self.pre:
            self._out("`")
        elif tag == "a":
            href = (attributes.get("href") or "").strip()
            keep = href if re.match(r"^(https?://|mailto:)", href, re.IGNORECASE) else None
            self.links.append((keep, []))

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(self.skipping - 1, 0)
            return
        if self.skipping:
            return
        if tag == "a" and self.links:
            href, parts = self.links.pop()
            text = "".join(parts).strip()
            if href and text:
                safe_href = href.replace(" ", "%20").replace(")", "%29").replace("(", "%28")
                self._out(f"[{text}]({safe_href})")
            elif href:
                self._out(f"<{href}>")
            else:
                self._out(text)
        elif tag in {"strong", "b"}:
            self._out("**")
        elif tag in {"em", "i"}:
            self._out("*")
        elif tag == "code" and not self.pre:
            self._out("`")
        elif tag == "pre":
            self._out("\n```")
            self._flush()
            self.pre = max(self.pre - 1, 0)
        elif tag == "blockquote":
            self._flush()
            self.quote = max(self.quote - 1, 0)
        elif tag in {"ul", "ol"}:
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag in self.BLOCKS or tag == "li":
            self._flush()

    def handle_data(self, data):
        if self.skipping:
            return
        self._out(data if self.pre else _escape_markdown(data.replace("\n", " ")))

    def markdown(self) -> str:
        while self.links:
            _href, parts = self.links.pop()
            self._out("".join(parts))
        self._flush()
        return _join_blocks(self.blocks)


def _join_blocks(blocks: list[str]) -> str:
    # List items sit one per line; every other block gets a blank line.
    out = []
    for block in blocks:
        if out:
            both_items = _is_item(out[-1]) and _is_item(block)
            out.append("\n" if both_items else "\n\n")
        out.append(block)
    return "".join(out).strip()


def _is_item(block: str) -> bool:
    return bool(re.match(r"^\s*(-|\d+\.) ", block))


def html_to_markdown(html: str) -> str:
    """Markdown from show-note HTML: structure, emphasis and http(s)/mailto links survive."""
    writer = _MarkdownWriter()
    writer.feed(html)
    writer.close()
    return writer.markdown()
