"""Hostile inputs: our Markdown-specific vectors, plus loaders for blns (npm) and bleach's test data."""

import json
import os
import shutil
import subprocess
import sys
import tarfile
from importlib import metadata
from pathlib import Path

import pytest

# Payloads set window.__xss (the harness watches it) or open a dialog.
X = "window.__xss=1"

MARKDOWN_VECTORS = [
    # Links with scripting schemes, in every spelling Markdown and HTML allow.
    f"[x](javascript:{X})",
    f"[x](JaVaScRiPt:{X})",
    f"[x]( javascript:{X} )",
    f"[x](<javascript:{X}>)",
    f"[x](javascript&#58;{X})",
    f"[x](javascript&colon;{X})",
    f"[x](&#106;avascript:{X})",
    f"[x](&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:{X})",
    f"[x](%6A%61%76%61%73%63%72%69%70%74:{X})",
    f"[x](java\u200bscript:{X})",
    f"[x](java\u0001script:{X})",
    f"[x](<java\tscript:{X}>)",
    "[x](javascript://%0Awindow.__xss=1)",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<script>window.__xss=1</script>)",
    "[x](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX194c3M9MTwvc2NyaXB0Pg==)",
    "[x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    f"[x][ref]\n\n[ref]: javascript:{X}",
    f'[x][ref]\n\n[ref]: <javascript:{X}> "title"',
    f"[x][]\n\n[x]: data:text/html,<script>{X}</script>",
    # Autolinks and bare URLs that linkify turns into links.
    f"<javascript:{X}>",
    f"<data:text/html,<script>{X}</script>>",
    f"javascript:{X}",
    f'www.example.org/"onmouseover="{X}',
    f'https://example.org/"><script>{X}</script>',
    f"https://example.org/<img src=x onerror={X}>",
    f"<https://example.org/\" onmouseover=\"{X}>",
    f"mailto:a@example.org?subject=<script>{X}</script>",
    # Titles and attribute breakouts.
    f'[x](https://example.org "t\\" onmouseover=\\"{X}")',
    f"[x](https://example.org 'a\" onmouseover=\"{X}')",
    f'"><script>{X}</script>',
    f"'><script>{X}</script>",
    f"</textarea><script>{X}</script>",
    f"</title><script>{X}</script>",
    f"</mark><script>{X}</script><mark>",
    f"[[<script>{X}</script>]]",
    f"[[ onmouseover={X} ]]",
    # Images (Markdown images are off) and raw HTML (off, shown as text).
    f"![x](javascript:{X})",
    f'![x](x" onerror="{X})',
    "![x](https://example.invalid/tracker.png)",
    f"<script>{X}</script>",
    f"<div>\n<script>{X}</script>\n</div>",
    f"<img src=x onerror={X}>",
    f"<svg onload={X}>",
    f"<svg><script>{X}</script></svg>",
    f'<svg><a xlink:href="javascript:{X}"><text x="1" y="9">x</text></a></svg>',
    f"<svg><animate onbegin={X} attributeName=x dur=1s>",
    f'<svg><set attributeName="href" to="javascript:{X}"/></svg>',
    f"<math><mtext><table><mglyph><style><img src=x onerror={X}>",
    f'<noscript><p title="</noscript><img src=x onerror={X}>">',
    f"<style>@import 'javascript:{X}';</style>",
    f'<style>*{{background:url("javascript:{X}")}}</style>',
    f'<p style="background:url(javascript:{X})">x</p>',
    f'<div style="width:expression({X})">x</div>',
    f'<a href="javascript:{X}">x</a>',
    f'<a href="jav&#x09;ascript:{X}">x</a>',
    f"<a href=javascript&colon;{X}>x</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    f'<iframe src="javascript:{X}"></iframe>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
    f'<object data="data:text/html,<script>{X}</script>"></object>',
    f'<embed src="javascript:{X}">',
    f'<form action="javascript:{X}"><button>x</button></form>',
    f'<button formaction="javascript:{X}">x</button>',
    f"<input autofocus onfocus={X}>",
    f"<details open ontoggle={X}>",
    f"<body onload={X}>",
    f'<base href="javascript:{X}//">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{X}">',
    f"<video><source onerror={X}></video>",
    f"<audio src=x onerror={X}>",
    f"<marquee onstart={X}>x</marquee>",
    f'<link rel=import href="data:text/html,<script>{X}</script>">',
    f"<template><script>{X}</script></template>",
    f"<textarea><script>{X}</script></textarea>",
    f"<xmp><img src=x onerror={X}></xmp>",
    f"<mark onmouseover={X}>x</mark>",
    # Unclosed and split tags.
    f"<scr<script>ipt>{X}</scr</script>ipt>",
    f"<<script>script>{X}<</script>/script>",
    f"<script src=data:,{X} ",
    f"<img src=x onerror={X}",
    f'<!--<img src="--><img src=x onerror={X}//">',
    f"<![CDATA[<script>{X}</script>]]>",
    # Inside Markdown constructs.
    f"`<script>{X}</script>`",
    f"```html\n<script>{X}</script>\n```",
    f"    <script>{X}</script>",
    f"> <script>{X}</script>",
    f"* [x](javascript:{X})",
    f"# <img src=x onerror={X}>",
    f"**<img src=x onerror={X}>**",
    f"[<img src=x onerror={X}>](https://example.org)",
    f"@<img src=x onerror={X}>",
    # Entities and invisible characters.
    f"&lt;script&gt;{X}&lt;/script&gt;",
    f"&#60;script&#62;{X}&#60;/script&#62;",
    f"\u200b<script>{X}</script>",
    f"\u2028<img src=x onerror={X}>\u2029",
    f"\\x3cscript\\x3e{X}\\x3c/script\\x3e",
    '<a href="https://example.org" target="_blank" rel="opener">x</a>',
]


def require_or_skip(message: str):
    """A missing tool fails under COPROD_REQUIRE_BROWSER=1 (CI) and skips elsewhere."""
    if os.environ.get("COPROD_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


def load_blns(folder: Path) -> list[str]:
    """The Big List of Naughty Strings, installed from the npm registry into `folder`."""
    npm = shutil.which("npm")
    if npm is None:
        require_or_skip("npm is missing; it installs the blns corpus (Debian package npm)")
    result = subprocess.run(
        [npm, "install", "blns@2", "--prefix", str(folder), "--no-audit", "--no-fund",
         "--ignore-scripts", "--loglevel=error"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    corpus = folder / "node_modules" / "blns" / "resources" / "blns.json"
    if result.returncode != 0 or not corpus.exists():
        require_or_skip(f"npm install blns@2 failed: {result.stderr.strip()[-500:]}")
    return json.loads(corpus.read_text(encoding="utf-8"))


def load_bleach_vectors(folder: Path) -> list[str]:
    """The inputs of bleach's own XSS tests (tests/data/*.test in its sdist), or [] when
    the sdist cannot be fetched: they are a bonus on top of the required corpus."""
    version = metadata.version("bleach")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", f"bleach=={version}", "--no-binary", ":all:",
         "--no-deps", "--quiet", "--dest", str(folder)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    archives = list(folder.glob("bleach-*.tar.gz"))
    if result.returncode != 0 or not archives:
        return []
    vectors = []
    with tarfile.open(archives[0]) as archive:
        for member in archive.getmembers():
            if "/tests/data/" in member.name and member.name.endswith(".test"):
                text = archive.extractfile(member).read().decode("utf-8")
                vectors.append(text.split("\n--\n")[0].strip("\n"))
    return vectors


def corpus(blns: list[str], bleach_vectors: list[str]) -> list[str]:
    """Every vector once, without the ones that are only white space (no form takes them)
    and without NUL (no database stores it; the forms' handling of it is another test)."""
    seen = set()
    vectors = []
    for vector in [*blns, *bleach_vectors, *MARKDOWN_VECTORS]:
        vector = vector.replace("\x00", "")
        if vector.strip() and vector not in seen:
            seen.add(vector)
            vectors.append(vector)
    return vectors
