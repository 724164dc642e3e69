"""render_markdown(): Markdown in, sanitized HTML out."""

import html
import re

import pytest
from markupsafe import Markup

from coprod_study.markup import render_markdown, sanitized

HOSTILE = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    '<img src=x onerror="alert(1)">',
    "<img src=x onerror=alert(1)//",
    "<IMG SRC=javascript:alert('XSS')>",
    '<svg onload="alert(1)"><circle r="5"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<iframe src="https://evil.example"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="  javascript:alert(1)">spaces</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab</a>',
    '<a href="&#106;avascript:alert(1)">entity</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">hex</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    '<a href="https://ok.example" style="color:red">styled</a>',
    '<p style="background:url(javascript:alert(1))">styled p</p>',
    "<style>body{display:none}</style>",
    '<div onmouseover="alert(1)">hover</div>',
    '<body onload="alert(1)">',
    '<form action="https://evil.example"><input name="q"></form>',
    '<button formaction="javascript:alert(1)">go</button>',
    '<details open ontoggle="alert(1)">',
    '<video><source onerror="alert(1)"></video>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '[click](https://ok.example "title" onclick="alert(1)")',
    "[click][ref]\n\n[ref]: javascript:alert(1)",
    "![img](https://evil.example/x.png)",
    "![img](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,<script>alert(1)</script>>",
    "javascript:alert(1)",
    "www.example.org/<script>alert(1)</script>",
    "<a href=javascript:alert(1)>unquoted</a>",
    "<a href='javascript:alert(1)'>single</a>",
    '<a\nhref="javascript:alert(1)">newline</a>',
    "<img src=x onerror=alert(1)",
    "<div><p>unclosed <b>tags <i>everywhere",
    "</p></div><script>alert(1)</script>",
    "<!-- <script>alert(1)</script> -->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "> <img src=x onerror=alert(1)>",
    '* <a href="javascript:alert(1)">item</a>',
    "<textarea><script>alert(1)</script></textarea>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<a href="https://ok.example" target="_blank">new tab</a>',
]

SAFE_HREF = re.compile(r"^(https?:|mailto:|/|#|\?|[^:]*$)", re.I)
TAG = re.compile(r"<[a-zA-Z][^>]*>")
HREF = re.compile(r'\shref="([^"]*)"')


def assert_safe(output: str) -> None:
    lowered = output.lower()
    for forbidden in (
        "<script",
        "<img",
        "<svg",
        "<iframe",
        "<style",
        "<object",
        "<embed",
        "<form",
        "<input",
        "<math",
        "<base",
        "<meta",
        "<link",
    ):
        assert forbidden not in lowered, (forbidden, output)
    # Escaped text may read 'style=' or 'onclick='; no real tag may carry them.
    for tag in TAG.findall(output):
        assert not re.search(r"\son\w+\s*=", tag, re.I), (tag, output)
        assert not re.search(r"\s(style|src|srcdoc|formaction)\s*=", tag, re.I), (tag, output)
    for href in HREF.findall(output):
        # What a browser would see: entities decoded, control characters dropped.
        value = re.sub(r"[\x00-\x20]", "", html.unescape(href))
        assert SAFE_HREF.match(value), (href, output)
        assert not re.match(r"(java|vb)script:|data:", value, re.I), (href, output)


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_input_is_neutralised(text):
    output = render_markdown(text)
    assert isinstance(output, Markup)
    assert_safe(str(output))


def test_there_are_at_least_forty_hostile_cases():
    assert len(set(HOSTILE)) >= 40


def test_typed_html_is_shown_as_text():
    output = str(render_markdown("<b>bold?</b> 1 < 2"))
    assert "&lt;b&gt;bold?&lt;/b&gt;" in output
    assert "1 &lt; 2" in output


def test_emphasis_lists_and_code():
    output = str(render_markdown("**bold** and *italic*\n\n- one\n- two\n\n1. first\n\n`x < y`"))
    assert "<strong>bold</strong>" in output
    assert "<em>italic</em>" in output
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in output
    assert "<ol>" in output and "<li>first</li>" in output
    assert "<code>x &lt; y</code>" in output


def test_code_block_keeps_its_text():
    output = str(render_markdown("```\nif a < b:\n    pass\n```"))
    assert "<pre><code>if a &lt; b:\n    pass\n</code></pre>" in output


def test_ordered_list_keeps_its_start():
    assert '<ol start="3">' in str(render_markdown("3. three\n4. four"))


def test_blockquote_and_rule():
    output = str(render_markdown("> quoted\n\n---"))
    assert "<blockquote>" in output
    assert "<hr>" in output or "<hr/>" in output or "<hr />" in output


def test_links_get_rel_nofollow_ugc_noopener():
    output = str(render_markdown('[site](https://example.org/a?b=1&c=2 "Title")'))
    assert 'href="https://example.org/a?b=1&amp;c=2"' in output
    assert 'rel="nofollow ugc noopener"' in output
    assert 'title="Title"' in output


def test_mailto_links_are_kept():
    output = str(render_markdown("[write](mailto:team@example.org)"))
    assert 'href="mailto:team@example.org"' in output


def test_target_is_dropped_from_links():
    output = str(render_markdown("[x](https://example.org)"))
    assert "target=" not in output


def test_bare_urls_are_linkified():
    output = str(render_markdown("See https://example.org/page for more."))
    assert '<a href="https://example.org/page" rel="nofollow ugc noopener">' in output
    www = str(render_markdown("or www.example.org"))
    assert 'href="http://www.example.org"' in www
    assert 'rel="nofollow ugc noopener"' in www


def test_urls_inside_code_are_not_linkified():
    output = str(render_markdown("`https://example.org`"))
    assert "<a " not in output


@pytest.mark.parametrize(
    ("text", "tag"), [("# Title", "h3"), ("## Sub", "h4"), ("#### Deep", "h6")]
)
def test_headings_are_shifted_below_the_page_headings(text, tag):
    output = str(render_markdown(text))
    assert output.startswith(f"<{tag}>")
    assert "<h1>" not in output and "<h2>" not in output


def test_empty_input_gives_empty_markup():
    assert render_markdown("") == Markup("")
    assert render_markdown(None) == Markup("")


def test_sanitized_filter_marks_stored_html_safe():
    assert sanitized("<p>x</p>") == Markup("<p>x</p>")
    assert sanitized(None) == Markup("")


def test_rendering_from_many_threads_at_once_gives_each_the_same_html():
    """Threaded workers (gunicorn gthread) render at once; a shared bleach Cleaner is not
    safe for that (it failed under the write-contention benchmark)."""
    from concurrent.futures import ThreadPoolExecutor

    from coprod_study.markup import render_markdown

    texts = [f"**Post {n}** with <em>a tag</em>, a <b>bold</b> word and https://example.org/{n}"
             for n in range(400)]
    expected = [str(render_markdown(text)) for text in texts]
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda text: str(render_markdown(text)), texts))
    assert got == expected
