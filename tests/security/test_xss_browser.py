"""XSS in a real browser: a corpus of hostile inputs through every place user text is shown.

Each vector is written through the app's own services (or sent as a request
where the path is a response, like a preview), and every page is opened in
Chromium with hooks on dialogs, console errors, page errors, navigation,
pop-ups, requests leaving the site and a window.__xss flag that the payloads
set; after loading, synthetic events fire on every element (to run any handler
attribute), and the DOM is searched for anything a sanitizer must never let
through (script, handler attributes, scripting URLs, iframes, SVG, style...).
The first test covers what people post; the second the catalog (feed import,
the admin's editor, transcript uploads), moderation, inquiries, courses and the
mail and calendar feeds. Text mails and the .ics feed are not HTML: they are
checked for what could break out of them (a header or a property of a vector's
making) instead of being opened in the browser.

The Content-Security-Policy header is removed on the way to the browser: the
sanitizer and the templates' escaping must hold on their own, and the CSP is a
second line checked in test_headers. A positive control runs the same harness
on an unsanitized page, so this test cannot pass by seeing nothing.
"""

import email
import email.policy
import html
import math
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import insert, select
from werkzeug.serving import make_server

from coprod_study.extensions import db
from coprod_study.models import Membership, User
from tests import factories as f
from tests.conftest import csrf_token
from tests.security.conftest import sign_in
from tests.security.xss_vectors import MARKDOWN_VECTORS, corpus, load_bleach_vectors, load_blns

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEARCH_BATCH = 50
ANSWERS_PER_VISIT = 200
NOTIFICATIONS_PER_PAGE = 30
HIDDEN_PER_THREAD = 60
SAFE_SCHEMES = ("http", "https", "mailto")

TRIGGER_JS = """() => {
  const types = ['mouseover', 'mouseenter', 'focus', 'error', 'load', 'toggle', 'animationstart'];
  for (const element of document.querySelectorAll('body *')) {
    for (const type of types) {
      try { element.dispatchEvent(new Event(type)); } catch (error) { /* keep going */ }
    }
  }
}"""

# Anything that must never come out of user text, wherever it is shown.
CHECK_JS = """() => {
  const found = [];
  const origin = location.origin;
  const invisible = /[\\u0000-\\u0020\\u007f-\\u00a0\\u200b-\\u200f\\u2028\\u2029\\ufeff]/g;
  const scheme = /^([a-z][a-z0-9+.\\-]*):/i;
  const urlAttributes = new Set(['href', 'src', 'action', 'formaction', 'data', 'xlink:href',
    'srcdoc', 'poster', 'background', 'codebase', 'cite', 'dynsrc', 'lowsrc', 'ping',
    'manifest', 'longdesc', 'usemap', 'archive', 'classid', 'icon', 'srcset', 'to', 'from',
    'values']);
  const forbidden = new Set(['iframe', 'frame', 'frameset', 'object', 'embed', 'applet', 'base',
    'svg', 'math', 'style', 'img', 'image', 'video', 'source', 'track', 'template', 'marquee',
    'isindex', 'portal', 'picture', 'canvas', 'xmp', 'plaintext', 'noembed', 'noframes',
    'param', 'bgsound', 'layer', 'ilayer', 'animate', 'set', 'foreignobject']);
  const show = (element) => element.outerHTML.slice(0, 200);
  for (const element of document.querySelectorAll('*')) {
    const tag = element.localName.toLowerCase();
    if (forbidden.has(tag)) found.push(`<${tag}> element: ${show(element)}`);
    // The head's own tags for shared links and search engines: JSON-LD data blocks
    // (never run) and canonical/alternate links. User text reaches the head only
    // inside escaped attribute values and tojson output, never as an element.
    const inHead = element.parentElement === document.head;
    const dataBlock = inHead && element.type === 'application/ld+json';
    const pageLink = inHead && ['canonical', 'alternate'].includes(element.rel);
    if (tag === 'script' && !dataBlock && !(element.src && element.src.startsWith(origin + '/static/'))) {
      found.push(`script: ${show(element)}`);
    }
    if (tag === 'link' && !pageLink && !(element.rel === 'stylesheet' && element.href.startsWith(origin + '/static/'))) {
      found.push(`link: ${show(element)}`);
    }
    if (tag === 'meta' && element.httpEquiv) found.push(`meta http-equiv: ${show(element)}`);
    if (tag === 'audio' && !element.classList.contains('player')) found.push(`audio: ${show(element)}`);
    if (tag === 'form') {
      const action = element.getAttribute('action') || '';
      if (action && !action.startsWith('#') && (!action.startsWith('/') || action.startsWith('//'))) found.push(`form: ${show(element)}`);
    }
    for (const attribute of element.attributes) {
      const name = attribute.name.toLowerCase();
      if (name.startsWith('on')) found.push(`handler ${name}: ${show(element)}`);
      if (urlAttributes.has(name)) {
        const match = attribute.value.replace(invisible, '').match(scheme);
        if (match && !['http', 'https', 'mailto'].includes(match[1].toLowerCase())) {
          found.push(`${name}=${match[1]}: ${show(element)}`);
        }
      }
      if (name === 'style' && /url\\s*\\(|expression|javascript|behavior|@import|binding/i.test(attribute.value)) {
        found.push(`style: ${show(element)}`);
      }
    }
  }
  return found;
}"""


class Harness:
    """One browser context that records every sign of script running."""

    def __init__(self, browser, origin: str):
        self.origin = origin
        self.findings: list[tuple[str, str, str]] = []
        self.served: dict[str, str] = {}
        self.label = ""
        self.expected_url = ""
        self.context = browser.new_context()
        self.context.add_init_script("window.__xss = 0;")
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.context.on("page", lambda new: self._record("popup", new.url))
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda m: self._record("console", m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self._record("pageerror", str(error)))
        self.page.on("framenavigated", self._navigated)

    def _record(self, kind: str, detail: str) -> None:
        self.findings.append((kind, detail[:300], self.label))

    def _dialog(self, dialog) -> None:
        self._record("dialog", f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame and frame.url.split("#")[0] != self.expected_url:
            self._record("navigation", frame.url)

    def _route(self, route) -> None:
        url = route.request.url
        path = url[len(self.origin):].split("#")[0] if url.startswith(self.origin + "/") else None
        if path in self.served:
            route.fulfill(body=self.served[path], content_type="text/html; charset=utf-8")
        elif path is not None:
            # The browser follows redirects itself, as it would without the interception.
            response = route.fetch(max_redirects=0)
            headers = {
                name: value
                for name, value in response.headers.items()
                if name.lower() not in ("content-security-policy", "x-frame-options")
            }
            route.fulfill(response=response, headers=headers)
        else:
            self._record("request", url)
            route.abort()

    def serve(self, name: str, html: str) -> str:
        path = f"/__xss__/{name}"
        self.served[path] = html
        return self.origin + path

    def visit(self, url: str, label: str) -> int:
        """Open `url`, fire events at every element, and return how many findings it added."""
        before = len(self.findings)
        self.label = label
        self.expected_url = url.split("#")[0]
        self.page.goto(url, wait_until="load")
        self.page.evaluate(TRIGGER_JS)
        self.page.wait_for_timeout(100)
        if self.page.evaluate("() => window.__xss"):
            self._record("__xss", "window.__xss was set")
        for finding in self.page.evaluate(CHECK_JS):
            self._record("dom", finding)
        return len(self.findings) - before

    def count(self, selector: str) -> int:
        return self.page.evaluate("(s) => document.querySelectorAll(s).length", selector)

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="session")
def vectors(tmp_path_factory):
    blns = load_blns(tmp_path_factory.mktemp("blns"))
    bleach_vectors = load_bleach_vectors(tmp_path_factory.mktemp("bleach"))
    found = corpus(blns, bleach_vectors)
    return {"all": found, "blns": len(blns), "bleach": len(bleach_vectors),
            "ours": len(MARKDOWN_VECTORS)}


def _stitch(pages: list[str]) -> str:
    """One page in the app's own layout whose <main> holds every response's <main>, each
    as the server sent it, so that hundreds of one-vector responses open in one visit."""
    def inner(html: str) -> str:
        start = html.index(">", html.index("<main")) + 1
        return html[start:html.rindex("</main>")]

    sections = "".join(
        f'<section class="xss-case" data-case="{number}">{inner(html)}</section>'
        for number, html in enumerate(pages)
    )
    first = pages[0]
    start = first.index(">", first.index("<main")) + 1
    return first[:start] + sections + first[first.rindex("</main>"):]


def _needle(number: int) -> str:
    # Digits at the end: no stemmer (English or Swedish) takes a suffix off, so one
    # batch's word never matches another's.
    return f"xssneedle{number:03d}"


def _vtt(cues: list[str]) -> bytes:
    lines = ["WEBVTT", ""]
    for number, text in enumerate(cues):
        start = number * 2
        lines += [
            f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}.000 --> "
            f"{start // 3600:02d}:{start // 60 % 60:02d}:{start % 60:02d}.900",
            text,
            "",
        ]
    return "\n".join(lines).encode("utf-8")


def _cue_text(vector: str) -> str:
    # A cue is one block of lines: no blank line, no timing arrow inside it.
    return " ".join(vector.split()).replace("-->", "--\u200b>") or "."


def _seed(world, vectors: list[str]) -> dict:
    """Write every vector through every path; return what the browser should open."""
    from coprod_study.account.service import MAX_DISPLAY_NAME
    from coprod_study.catalog import transcript as transcripts
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import answers as answer_service
    from coprod_study.groups import service as group_service
    from coprod_study.markup import render_markdown
    from coprod_study.models import Episode, Post
    from coprod_study.notifications import digests
    from coprod_study.notifications import service as notifications

    count = len(vectors)
    admin = world.user("admin")
    facilitator = f.make_user(role="facilitator", name="XSS Facilitator")
    episode = db.session.get(Episode, world.ids["episode"])

    # Transcript: one cue per vector through the real parser; the parser drops cue
    # tags, so each segment then gets the raw vector, as an edited transcript could.
    transcript = transcripts.store_transcript(
        episode, "de", "xss.vtt", _vtt([_cue_text(v) for v in vectors])
    )
    segments = list(transcript.segments)
    assert len(segments) == count
    for segment, vector in zip(segments, vectors, strict=True):
        segment.text = vector
    db.session.commit()

    # Answers (each quoting a moment) by people whose display names are vectors too:
    # the names are written to the rows directly, cut to the column's length, so that
    # even names the profile form would refuse reach the pages.
    answers_group = f.make_group(facilitator, name="XSS answers", join_policy="invite",
                                 post_first=False)
    question = group_service.get_question(answers_group, episode, 1)
    people = [
        User(email=f"xss{number}@example.org",
             display_name=(" ".join(vector.split())[:MAX_DISPLAY_NAME] or "."),
             password_hash="!", role="learner")
        for number, vector in enumerate(vectors)
    ]
    db.session.add_all(people)
    db.session.flush()
    db.session.execute(insert(Membership), [
        {"group_id": answers_group.id, "user_id": person.id, "role": "member", "status": "active"}
        for person in people
    ])
    db.session.commit()
    for person, vector, segment in zip(people, vectors, segments, strict=True):
        answer_service.post_answer(person, answers_group, question, vector, segment_id=segment.id)

    # Replies, all under one answer.
    replies_group = f.make_group(facilitator, name="XSS replies", post_first=False)
    author = f.add_member(replies_group, f.make_user(name="Answer Author"))
    replier = f.add_member(replies_group, f.make_user(name="Replier"))
    replies_question = group_service.get_question(replies_group, episode, 1)
    root = answer_service.post_answer(author, replies_group, replies_question, "The answer.")
    for vector in vectors:
        answer_service.post_reply(replier, root, vector)

    # Thread posts, all in one thread.
    thread_group = f.make_group(facilitator, name="XSS thread")
    poster = f.add_member(thread_group, f.make_user(name="Poster"))
    thread = discussion.create_thread(facilitator, thread_group, title="XSS thread", body="Start.")
    for vector in vectors:
        discussion.reply(poster, thread, vector)

    # Search: each vector after a word the search looks for, in batches. Written as
    # rows in one transaction (the search index follows every flush, whatever writes).
    search_group = f.make_group(facilitator, name="XSS search")
    search_thread = discussion.create_thread(facilitator, search_group, title="Search", body="S.")
    for number, vector in enumerate(vectors):
        body = f"{_needle(number // SEARCH_BATCH)}\n\n{vector}"
        db.session.add(Post(thread_id=search_thread.id, user_id=facilitator.id, body=body,
                            body_html=str(render_markdown(body))))
    db.session.commit()

    # Notifications for the viewer (the e-mail digest carries the same ones).
    for vector in vectors:
        notifications.notify([admin.id], "reply", vector, "/notifications")
    db.session.commit()
    digests.send_digest(admin, datetime.now(UTC))

    preview_group = f.make_group(facilitator, name="XSS preview", post_first=False)
    description_group = f.make_group(facilitator, name="XSS description")
    return {
        "admin": admin,
        "facilitator": facilitator,
        "episode": episode,
        "answers": answers_group,
        "replies": replies_group,
        "thread": (thread_group, thread),
        "preview": preview_group,
        "description": description_group,
        "count": count,
    }


def _responses(app, world, seeded, vectors: list[str]) -> dict[str, list[str]]:
    """The paths that are a response to one request: preview, group page, search query."""
    from coprod_study.groups import service as group_service

    admin_client = app.test_client()
    sign_in(admin_client, seeded["admin"])
    # Only someone who may answer sees the answer form and its preview.
    member_client = app.test_client()
    sign_in(member_client, seeded["facilitator"])
    token = csrf_token(member_client, "/contact/sent")
    episode_slug = seeded["episode"].slug
    preview_url = f"/groups/{seeded['preview'].slug}/episodes/{episode_slug}/questions/1"
    visitor = app.test_client()
    description_group = seeded["description"]
    pages = {"preview": [], "group description": [], "search query": []}
    for vector in vectors:
        response = member_client.post(
            preview_url, data={"body": vector, "action": "preview", "csrf_token": token}
        )
        assert response.status_code == 200, (vector, response.status_code)
        pages["preview"].append(response.get_data(as_text=True))

        group_service.update_group(
            seeded["facilitator"], description_group, name=description_group.name,
            description=vector, join_policy="open", post_first=True, allow_anonymous=False,
        )
        response = visitor.get(f"/groups/{description_group.slug}")
        assert response.status_code == 200
        pages["group description"].append(response.get_data(as_text=True))

        response = admin_client.get("/search?q=" + quote(vector))
        assert response.status_code == 200
        pages["search query"].append(response.get_data(as_text=True))
    return pages


def _email_html(app, address: str) -> str:
    from coprod_study.mail import outbox

    outbox.deliver_due()  # what a queue worker would do
    for path in sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            return message.get_body(preferencelist=("html",)).get_content()
    raise AssertionError(f"no e-mail to {address} in the outbox")


def _sign_in_browser(page, base: str, address: str) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=email]", address)
    page.fill("input[name=password]", f.DEFAULT_PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(lambda url: "/auth/login" not in url)


def test_no_vector_executes_on_any_render_path(app, world, live_server, browser, vectors, capsys):
    corpus_ = vectors["all"]
    assert len(corpus_) >= 400, f"only {len(corpus_)} vectors"
    count = len(corpus_)
    seeded = _seed(world, corpus_)
    stitched = _responses(app, world, seeded, corpus_)
    address = seeded["admin"].email
    mail = _email_html(app, address)
    thread_group, thread = seeded["thread"]
    where = {
        "episode": seeded["episode"].slug,
        "answers": seeded["answers"].slug,
        "replies": seeded["replies"].slug,
        "thread": f"{thread_group.slug}/threads/{thread.id}",
    }
    db.session.commit()

    harness = Harness(browser, live_server)
    try:
        _sign_in_browser(harness.page, live_server, address)
        # Signing in navigates, as it should; only what happens from here on counts.
        assert {kind for kind, _, _ in harness.findings} <= {"navigation"}, harness.findings
        harness.findings.clear()
        assert "/auth/login" not in harness.page.url
        episode = where["episode"]
        shown: dict[str, int] = {}

        def open_page(url: str, label: str, selector: str) -> None:
            harness.visit(url, label)
            shown[label] = shown.get(label, 0) + harness.count(selector)

        answers = where["answers"]
        # Answers come a page at a time; the largest page size takes the fewest visits.
        for number in range(1, math.ceil(count / ANSWERS_PER_VISIT) + 1):
            open_page(
                f"{live_server}/groups/{answers}/episodes/{episode}/questions/1"
                f"?per_page={ANSWERS_PER_VISIT}&page={number}",
                "answer", "article .prose, li .prose, .answer .prose",
            )
            shown["transcript quote"] = (
                shown.get("transcript quote", 0) + harness.count(".moment-quote")
            )
            shown["display name"] = shown.get("display name", 0) + harness.count(".author")
        open_page(f"{live_server}/groups/{answers}/members", "display name (members)", "tbody tr")
        open_page(f"{live_server}/groups/{where['replies']}/episodes/{episode}/questions/1",
                  "reply", ".prose")
        shown["reply"] -= 1  # the answer they reply to
        open_page(f"{live_server}/groups/{where['thread']}",
                  "thread post", ".prose")
        shown["thread post"] -= 1  # the opening post
        wrong_marks = set()
        for batch in range(math.ceil(count / SEARCH_BATCH)):
            open_page(f"{live_server}/search?q={_needle(batch)}", "search snippet", ".snippet")
            marks = harness.page.evaluate(
                "() => [...document.querySelectorAll('.snippet mark')].map(m => m.textContent)")
            wrong_marks |= {mark for mark in marks if mark.lower() != _needle(batch)}
        open_page(f"{live_server}/episodes/{episode}/transcript?lang=de", "transcript page",
                  ".segment-text")
        for number in range(1, math.ceil(count / NOTIFICATIONS_PER_PAGE) + 1):
            open_page(f"{live_server}/notifications?page={number}", "notification",
                      ".notification-list li")
        for label, pages in stitched.items():
            selector = {"preview": ".xss-case .preview .prose",
                        "group description": ".xss-case .prose",
                        "search query": ".xss-case input[name=q]"}[label]
            open_page(harness.serve(label.replace(" ", "-"), _stitch(pages)), label, selector)
        open_page(harness.serve("email", mail), "e-mail HTML part", "li")
    finally:
        harness.close()

    paths = sorted(label for label in shown if label != "display name (members)")
    executed = len(harness.findings)
    figure = (
        f"XSS: {count} vectors ({vectors['blns']} blns, {vectors['bleach']} bleach, "
        f"{vectors['ours']} ours) x {len(paths)} render paths = {count * len(paths)}, "
        f"executed = {executed}"
    )
    with capsys.disabled():
        print(f"\n{figure}\n  paths: {', '.join(paths)}")
    assert executed == 0, figure + "\n" + "\n".join(map(str, harness.findings[:40]))
    # Every path showed every vector (else a path could be "safe" by showing nothing).
    short = {label: number for label, number in shown.items() if number < count}
    assert not short, f"paths that showed fewer than the {count} vectors: {short}"
    # A highlight marks the word searched for and nothing else: a typed [[ or ]] (a few
    # vectors hold them) shows as typed.
    assert not wrong_marks, f"highlights around other text: {sorted(wrong_marks)[:10]}"


# --- The positive control ----------------------------------------------------------------


def _unsafe_server(html: str):
    def application(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [html.encode("utf-8")]

    server = make_server("127.0.0.1", 0, application, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


def test_the_harness_catches_script_on_an_unsanitized_page(browser, vectors):
    """The same harness on a page that prints the vectors raw (and on Markdown rendered
    without the sanitizer) must see them run: dialogs, the flag, forbidden markup."""
    corpus_ = vectors["all"]
    raw = "".join(f'<div class="case">{vector}</div>' for vector in corpus_)
    unsanitized = MarkdownIt("commonmark", {"html": True})
    rendered = "".join(
        f'<div class="case">{unsanitized.render(vector)}</div>' for vector in MARKDOWN_VECTORS
    )
    # The raw corpus opens dialogs (blns uses alert) and sets the flag; our Markdown
    # vectors, rendered without bleach, set the flag through raw HTML.
    pages = {"raw": (raw, {"dialog", "__xss", "dom"}), "markdown": (rendered, {"__xss", "dom"})}
    for name, (body, expected) in pages.items():
        server, thread = _unsafe_server(f"<!doctype html><title>{name}</title><body>{body}</body>")
        origin = f"http://127.0.0.1:{server.server_port}"
        harness = Harness(browser, origin)
        try:
            harness.visit(origin + "/", name)
            kinds = {kind for kind, _, _ in harness.findings}
        finally:
            harness.close()
            server.shutdown()
            thread.join(timeout=10)
        assert expected <= kinds, (name, kinds)
        assert re.search(r"handler on", " ".join(d for _, d, _ in harness.findings))


# --- The catalog, moderation, inquiries, courses and their mail ---------------------------

# Characters XML 1.0 cannot hold; a feed with them is refused before any show note is read.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What the calendar feed may hold, property by property: a vector that breaks out of its
# text value (a CR/LF, a ";" or ":") would start a property of its own.
ICS_PROPERTIES = {"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "X-WR-CALNAME",
                  "X-WR-TIMEZONE", "X-PUBLISHED-TTL", "REFRESH-INTERVAL", "NAME", "UID",
                  "DTSTAMP", "LAST-MODIFIED", "SEQUENCE", "DTSTART", "DTEND", "SUMMARY",
                  "DESCRIPTION", "URL", "TRANSP", "X-WR-CALDESC"}
# Headers of a text mail the app sends; a vector in a subject must not add one.
MAIL_HEADERS = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type",
                "content-transfer-encoding", "list-unsubscribe", "list-unsubscribe-post",
                "auto-submitted", "reply-to"}


def _fit(vector: str, limit: int) -> str:
    """The vector as a field of at most `limit` characters takes it (a form would refuse
    a longer one, which is another test), never empty."""
    return vector.strip()[:limit].strip() or "."


def _one_line(vector: str, limit: int) -> str:
    return " ".join(vector.split())[:limit] or "."


def _feed_xml(vectors: list[str]) -> bytes:
    from xml.sax.saxutils import escape

    items = []
    for number, vector in enumerate(vectors):
        text = XML_INVALID.sub("", vector)
        items.append(
            f"<item><title>{escape(f'Feed {number} {text}')}</title>"
            f"<guid isPermaLink=\"false\">xss-feed-{number}</guid>"
            f"<description>{escape(text)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>XSS feed</title><link>https://example.org/</link><language>en</language>"
        + "".join(items) + "</channel></rss>"
    ).encode("utf-8")


def _mails(app) -> list:
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    ]


def _seed_more(world, vectors: list[str]) -> dict:
    """Write every vector through the inputs the first test does not reach."""
    from datetime import timedelta

    from coprod_study import audit
    from coprod_study.account.service import MAX_DISPLAY_NAME
    from coprod_study.catalog import editing as catalog_edit
    from coprod_study.catalog import feed_import as feeds
    from coprod_study.courses import reminders
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import service as group_service
    from coprod_study.markup import render_markdown
    from coprod_study.models import Assignment, Episode, Flag, GroupQuestion, Inquiry, Post
    from coprod_study.moderation import service as moderation

    admin = world.user("admin")
    facilitator = f.make_user(role="facilitator", name="XSS Facilitator")
    episode = db.session.get(Episode, world.ids["episode"])

    # Show notes (and titles) of a podcast feed: one new episode per vector.
    result = feeds.import_feed_bytes(_feed_xml(vectors), actor=admin, source="xss.xml")
    assert result.changed, result.summary()
    fed = db.session.scalars(
        select(Episode).where(Episode.guid.like("xss-feed-%")).order_by(Episode.number)
    ).all()
    assert len(fed) == len(vectors)

    # An admin's edits of one episode, through the editor's own check-and-load step
    # (what every add, edit and move at /admin/episodes calls): every list holds every vector.
    raw = catalog_edit.document(episode)
    raw["takeaways"] = [{"kind": "key_lesson", "text": v} for v in vectors]
    raw["questions"] = [{"prompt": v, "audiences": []} for v in vectors]
    raw["references"] = [{"citation": v} for v in vectors]
    raw["guests"] = [{"name": f"Guest {n}", "bio": v} for n, v in enumerate(vectors)]
    raw["chapters"] = [{"title": _one_line(v, 200), "start": f"{n // 60}:{n % 60:02d}"}
                      for n, v in enumerate(vectors)]
    # A chapter a second: the episode must last as long as the corpus (the sample ones are short).
    raw["duration"] = f"{len(vectors) // 60 + 1}:00"
    raw.pop("translations", None)
    catalog_edit._save(admin, raw, "catalog.episode_updated", {"episode": episode.slug})
    # The editor holds a form per item, thousands of fields for the whole corpus in every
    # list: it gets the vectors with a character that means something in HTML, each once,
    # spread over its five lists, on an episode of its own.
    others = db.session.scalars(
        select(Episode).where(Episode.id != episode.id, Episode.guid.is_(None))
        .order_by(Episode.number)
    ).all()
    editor_episode, quiet_episode = others[0], others[1]
    marked = [v for v in vectors if any(c in v for c in "<>\"'&")]
    raw = catalog_edit.document(editor_episode)
    raw["takeaways"] = [{"kind": "idea_to_ponder", "text": v} for v in marked[0::5]]
    raw["questions"] = [{"prompt": v, "audiences": []} for v in marked[1::5]]
    raw["references"] = [{"citation": v} for v in marked[2::5]]
    raw["guests"] = [{"name": f"Editor guest {n}", "bio": v} for n, v in enumerate(marked[3::5])]
    raw["chapters"] = [{"title": _one_line(v, 200), "start": f"{n // 60}:{n % 60:02d}"}
                       for n, v in enumerate(marked[4::5])]
    raw["duration"] = f"{len(marked) // 60 + 1}:00"
    raw.pop("translations", None)
    catalog_edit._save(admin, raw, "catalog.episode_updated", {"episode": editor_episode.slug})
    db.session.commit()

    # An uploaded transcript whose speakers and lines are vectors (cue tags are parsed out).
    speakers = [_one_line(v, 60).replace(">", "").replace("<", "").strip() or "." for v in vectors]
    uploaded = catalog_edit.upload_transcript(
        admin, episode, "fr", "xss.vtt",
        _vtt([f"<v {s}>{_cue_text(v)}" for s, v in zip(speakers, vectors, strict=True)]),
    )
    db.session.commit()
    transcript_segments = list(uploaded.segments)
    assert len(transcript_segments) == len(vectors)

    # From here on the vectors are written as rows, in one transaction per kind (as the
    # first test writes names and search posts): one service call per vector would take
    # minutes, and the services store these texts as typed, only stripped and cut to length.
    # People who ask to join, each with a vector as the message.
    request_group = f.make_group(facilitator, name="XSS requests", join_policy="request")
    people = [
        User(email=f"xss-more{number}@example.org",
             display_name=_one_line(vector, MAX_DISPLAY_NAME), password_hash="!", role="learner",
             email_preference="off")
        for number, vector in enumerate(vectors)
    ]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all(
        Membership(group_id=request_group.id, user_id=person.id, role="member", status="pending",
                   request_message=_fit(vector, group_service.MAX_MESSAGE))
        for person, vector in zip(people, vectors, strict=True)
    )
    # A group's own study questions, all on one episode (the list), and one more in a
    # group of its own whose page shows each vector in turn (a question's page lists the
    # episode's other questions too).
    question_page_group = f.make_group(facilitator, name="XSS question page", post_first=False)
    single_question = GroupQuestion(group_id=question_page_group.id, episode_id=quiet_episode.id,
                                    position=1, prompt=".", created_by_id=facilitator.id)
    db.session.add(single_question)
    questions_group = f.make_group(facilitator, name="XSS questions", post_first=False)
    db.session.add_all(
        GroupQuestion(group_id=questions_group.id, episode_id=quiet_episode.id,
                      position=number + 1,
                      prompt=_fit(vector, group_service.MAX_QUESTION),
                      created_by_id=facilitator.id)
        for number, vector in enumerate(vectors)
    )
    db.session.commit()

    # Moderation: a flag's words and a hide reason per post, a lock reason per thread,
    # each reason in the audit log as the moderation services write it.
    moderation_group = f.make_group(facilitator, name="XSS moderation")
    author = f.add_member(moderation_group, f.make_user(name="Author"))
    reporter = f.add_member(moderation_group, f.make_user(name="Reporter"))
    thread = discussion.create_thread(facilitator, moderation_group, title="Moderated", body="S.")
    flagged = [Post(thread_id=thread.id, user_id=author.id, body="Flagged.",
                    body_html="<p>Flagged.</p>") for _vector in vectors]
    # The hidden posts in threads of HIDDEN_PER_THREAD, so that no page holds hundreds of
    # them with their moderation forms.
    hidden_threads = [
        discussion.create_thread(facilitator, moderation_group, title=f"Hidden {n}", body="H.")
        for n in range(math.ceil(len(vectors) / HIDDEN_PER_THREAD))
    ]
    hidden = [Post(thread_id=hidden_threads[n // HIDDEN_PER_THREAD].id, user_id=author.id, body="Hidden.", body_html="<p>Hidden.</p>",
                   hidden_at=datetime.now(UTC), hidden_reason=_fit(v, moderation.MAX_REASON))
              for n, v in enumerate(vectors)]
    # A lock reason per vector, in turn, on one thread of a small group (see _more_responses).
    lock_group = f.make_group(facilitator, name="XSS locks")
    lock_thread = discussion.create_thread(facilitator, lock_group, title="Locked", body="L.")
    db.session.add_all([*flagged, *hidden])
    db.session.flush()
    db.session.add_all(
        Flag(group_id=moderation_group.id, reporter_id=reporter.id, target_type="post",
             target_id=post.id, reason="other", text=_fit(vector, moderation.MAX_REASON))
        for post, vector in zip(flagged, vectors, strict=True)
    )
    for post in hidden:
        audit.record(facilitator, "post.hidden", subject=author, target=post,
                     group=moderation_group, reason=post.hidden_reason)
    db.session.commit()

    # Inquiries whose subjects are vectors, each replied to with one.
    inquiries = [
        Inquiry(name=_one_line(v, 120), email=f"sender{n}@example.org", subject=_one_line(v, 200),
                message=v)
        for n, v in enumerate(vectors)
    ]
    db.session.add_all(inquiries)
    db.session.commit()

    # A course: an assignment per fed episode (titles are vectors), instructions a vector
    # each, due tomorrow; learners get reminders at once, by daily and by weekly digest.
    educator = f.make_user(role="educator", name="XSS Educator")
    course = f.make_course(educator, title="XSS course", code="XSS1")
    learners = {}
    for preference in ("immediately", "daily", "weekly"):
        learner = f.make_user(name=f"Learner {preference}")
        learner.email_preference = preference
        learners[preference] = f.enrol(course, learner)
    now = datetime.now(UTC).replace(microsecond=0)
    db.session.add_all(
        Assignment(course_id=course.id, episode_id=fed_episode.id, opens_at=now - timedelta(days=1),
                   due_at=now + timedelta(hours=24), instructions=vector,
                   instructions_html=str(render_markdown(vector)))
        for fed_episode, vector in zip(fed, vectors, strict=True)
    )
    db.session.commit()
    sent = reminders.send_reminders()
    assert sent.emailed == len(vectors), sent
    return {"admin": admin, "facilitator": facilitator, "episode": episode, "fed": fed,
            "request_group": request_group, "questions_group": questions_group,
            "moderation_group": moderation_group, "hidden_threads": hidden_threads,
            "lock_thread": lock_thread,
            "lock_group": lock_group, "question_page_group": question_page_group,
            "speakers": sum(1 for s in transcript_segments if s.speaker),
            "editor_episode": editor_episode, "quiet_episode": quiet_episode,
            "editor_count": len(marked),
            "single_question": single_question,
            "inquiries": inquiries, "course": course, "learners": learners}


def _more_responses(app, seeded, vectors: list[str]) -> dict[str, list[str]]:
    """Pages that show one vector each, fetched one by one and stitched for one visit."""
    from coprod_study.inquiries import service as inquiry_service

    admin_client = app.test_client()
    sign_in(admin_client, seeded["admin"])
    facilitator_client = app.test_client()
    sign_in(facilitator_client, seeded["facilitator"])
    visitor = app.test_client()
    group = seeded["question_page_group"]
    question = seeded["single_question"]
    from coprod_study.discussion import service as discussion

    episode = seeded["quiet_episode"]
    question_path = (f"/groups/{group.slug}/episodes/{episode.slug}/questions/"
                     f"{len(episode.questions) + 1}")
    lock_thread = seeded["lock_thread"]
    lock_path = f"/groups/{seeded['lock_group'].slug}/threads/{lock_thread.id}"
    pages = {"feed show notes (episode page)": [], "group question page": [],
             "lock reason (thread page)": [], "inquiry reply (admin page)": []}

    def get(client, path: str) -> str:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.get_data(as_text=True)

    for inquiry, vector in zip(seeded["inquiries"], vectors, strict=True):
        inquiry_service.reply(seeded["admin"], inquiry, _fit(vector, inquiry_service.MAX_REPLY))
    for number, vector in enumerate(vectors):
        pages["feed show notes (episode page)"].append(
            get(visitor, f"/episodes/{seeded['fed'][number].slug}"))
        question.prompt = _fit(vector, 2_000)
        db.session.commit()
        pages["group question page"].append(get(facilitator_client, question_path))
        # Locked again with the vector as the reason: the audit log keeps every one.
        discussion.set_flags(seeded["facilitator"], lock_thread, locked=True,
                             lock_reason=_fit(vector, 300))
        pages["lock reason (thread page)"].append(get(facilitator_client, lock_path))
        pages["inquiry reply (admin page)"].append(
            get(admin_client, f"/admin/inquiries/{seeded['inquiries'][number].id}"))
    return pages


def _check_text_mails(mails, reminded: str, count: int) -> dict[str, int]:
    """Text mails (reminders, inquiry replies) carry no HTML for a client to render and no
    header that a vector in a subject could have added."""
    shown = {"reminder e-mail": 0, "inquiry reply e-mail": 0}
    for message in mails:
        to = message["To"] or ""
        kind = ("inquiry reply e-mail" if to.startswith("sender")
                else "reminder e-mail" if to == reminded else None)
        if kind is None:
            continue
        subject = message["Subject"] or ""
        assert not message.is_multipart(), subject
        assert message.get_content_type() == "text/plain", subject
        # (Python's e-mail package may fold a long subject with a leading space.)
        assert subject.lstrip().startswith("Re: " if kind.startswith("inquiry") else "Due soon")
        extra = {name.lower() for name in message.keys()} - MAIL_HEADERS
        assert not extra, (subject, extra)
        shown[kind] += 1
    assert shown == {"reminder e-mail": count, "inquiry reply e-mail": count}, shown
    return shown


def _check_calendar(client, user, code: str, vectors: list[str]) -> int:
    """The .ics feed: every event's text is the text typed, and no line is a property
    the feed does not write."""
    from icalendar import Calendar

    from coprod_study.courses import calendar

    response = client.get(f"/courses/{code}/calendar.ics?token={calendar.create_token(user)}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    unfolded = re.sub(r"\r\n[ \t]", "", body)
    names = {re.split(r"[;:]", line, maxsplit=1)[0] for line in unfolded.split("\r\n") if line}
    assert names <= ICS_PROPERTIES, names - ICS_PROPERTIES
    events = [c for c in Calendar.from_ical(body).walk("VEVENT")]
    assert len(events) == len(vectors)
    texts = " ".join(str(e.get("summary")) + "\n" + str(e.get("description")) for e in events)
    return sum(1 for vector in vectors if vector.strip().replace("\r\n", "\n") in texts)


def _feed_page(client) -> str:
    """Each feed item's title and HTML show notes as a podcast app shows them."""
    from xml.etree import ElementTree

    response = client.get("/feed.xml")
    assert response.status_code == 200
    root = ElementTree.fromstring(response.get_data())  # noqa: S314 (our own feed)
    sections = "".join(
        f'<section class="xss-case"><h2>{html.escape(item.findtext("title") or "")}</h2>'
        f'{item.findtext("description") or ""}</section>'
        for item in root.iter("item") if (item.findtext("guid") or "").startswith("xss-feed-")
    )
    return f"<!doctype html><meta charset=utf-8><title>feed</title><body>{sections}</body>"


def _paged(client, path: str, pages: int) -> list[str]:
    out = []
    for number in range(1, pages + 1):
        response = client.get(f"{path}{'&' if '?' in path else '?'}page={number}")
        assert response.status_code == 200, (path, number)
        out.append(response.get_data(as_text=True))
    return out


def test_no_vector_executes_on_catalog_moderation_course_and_mail_paths(
    app, world, live_server, browser, vectors, capsys
):
    from coprod_study.notifications import digests

    corpus_ = vectors["all"]
    count = len(corpus_)
    seeded = _seed_more(world, corpus_)
    stitched = _more_responses(app, seeded, corpus_)
    admin_client = app.test_client()
    sign_in(admin_client, seeded["admin"])
    group = seeded["moderation_group"]
    stitched["hide and lock reasons (audit log)"] = [
        *_paged(admin_client, f"/admin/audit?group={group.slug}", math.ceil(count / 50)),
        *_paged(admin_client, f"/admin/audit?group={seeded['lock_group'].slug}",
                math.ceil(count / 50)),
    ]
    stitched["inquiry subject (admin list)"] = _paged(
        admin_client, "/admin/inquiries?status=", math.ceil(count / 30))
    now = datetime.now(UTC)
    mails = {}
    for preference in ("daily", "weekly"):
        learner = seeded["learners"][preference]
        assert digests.send_digest(learner, now), preference
        mails[f"{preference} digest e-mail"] = _email_html(app, learner.email)
    shown = dict(_check_text_mails(_mails(app), seeded["learners"]["immediately"].email, count))
    shown["iCal feed"] = _check_calendar(app.test_client(), seeded["learners"]["daily"],
                                         seeded["course"].code, corpus_)
    feed_html = _feed_page(app.test_client())
    episode = seeded["episode"].slug
    quiet = seeded["quiet_episode"].slug
    # What a path must show at least: every vector, but in the editor (its share, see
    # _seed_more) and for speakers (the voices the transcript parser could read).
    expected = {"catalog editor (admin page)": seeded["editor_count"],
                "uploaded transcript speaker": seeded["speakers"]}
    where = {
        "requests": seeded["request_group"].slug,
        "questions": seeded["questions_group"].slug,
        "moderation": f"{group.slug}",
        "hidden": [f"{group.slug}/threads/{t.id}" for t in seeded["hidden_threads"]],
        "editor": seeded["editor_episode"].slug,
    }
    address = seeded["admin"].email
    # The browser's requests write (a sign-in, a thread marked read): this thread holds no
    # transaction from here on, and reads no attribute of a row (that would begin one, and
    # outside a request every transaction here begins IMMEDIATE, holding the write lock).
    db.session.commit()

    harness = Harness(browser, live_server)
    # The catalog editor and the stitched pages hold thousands of elements.
    harness.page.set_default_timeout(60_000)
    try:
        _sign_in_browser(harness.page, live_server, address)
        assert {kind for kind, _, _ in harness.findings} <= {"navigation"}, harness.findings
        harness.findings.clear()

        def open_page(url: str, label: str, selector: str) -> None:
            harness.visit(url, label)
            shown[label] = shown.get(label, 0) + harness.count(selector)

        def also(label: str, selector: str) -> None:
            shown[label] = shown.get(label, 0) + harness.count(selector)

        open_page(f"{live_server}/episodes/{episode}", "takeaway (episode page)",
                  "section[aria-labelledby=takeaways] li")
        also("study question (episode page)", "ol.questions > li")
        also("reference (episode page)", "ol.references > li")
        also("guest bio (episode page)", "dl.guests dd")
        also("chapter title (episode page)", "ol.chapters li")
        open_page(f"{live_server}/admin/episodes/{where['editor']}",
                  "catalog editor (admin page)", "main textarea, main input[type=text]")
        open_page(f"{live_server}/episodes/{episode}/transcript?lang=fr",
                  "uploaded transcript line", ".segment-text")
        also("uploaded transcript speaker", ".speaker")
        open_page(f"{live_server}/episodes", "feed episode title (catalog)",
                  "main a[href^='/episodes/feed-']")
        open_page(harness.serve("feed-xml", feed_html), "feed.xml show notes", ".xss-case")
        open_page(f"{live_server}/groups/{where['requests']}/members", "join request message",
                  "main blockquote")
        open_page(f"{live_server}/groups/{where['questions']}/episodes/{quiet}",
                  "group study question (list)", "main li")
        open_page(f"{live_server}/groups/{where['moderation']}/moderation",
                  "flag text (moderation queue)", "main li")
        for path in where["hidden"]:
            open_page(f"{live_server}/groups/{path}", "hide reason (thread page)", ".hidden-note")
        for label, pages in stitched.items():
            selector = {
                "feed show notes (episode page)": ".xss-case h1",
                "group question page": ".xss-case h1",
                "lock reason (thread page)": ".xss-case #locked-notice",
                "inquiry reply (admin page)": ".xss-case pre.source",
                "hide and lock reasons (audit log)": ".xss-case tbody tr",
                "inquiry subject (admin list)": ".xss-case tbody tr, .xss-case li",
            }[label]
            open_page(harness.serve(re.sub(r"\W+", "-", label), _stitch(pages)), label, selector)
        for label, mail in mails.items():
            open_page(harness.serve(label.replace(" ", "-"), mail), label, "li")
    finally:
        harness.close()

    paths = sorted(shown)
    executed = len(harness.findings)
    figure = (
        f"XSS (catalog, moderation, courses, mail): {count} vectors x {len(paths)} render paths"
        f" = {count * len(paths)}, executed = {executed}"
    )
    with capsys.disabled():
        print(f"\n{figure}\n  paths: {', '.join(paths)}")
        print("  shown: " + ", ".join(f"{k}={v}" for k, v in sorted(shown.items())))
    assert executed == 0, figure + "\n" + "\n".join(map(str, harness.findings[:40]))
    short = {label: number for label, number in shown.items()
             if number < expected.get(label, count)}
    assert not short, f"paths that showed fewer than the {count} vectors: {short}"
