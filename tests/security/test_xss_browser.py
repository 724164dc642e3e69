"""XSS in a real browser: a corpus of hostile inputs through every place user text is shown.

Each vector is written through the app's own services (or sent as a request
where the path is a response, like a preview), and every page is opened in
Chromium with hooks on dialogs, console errors, page errors, navigation,
pop-ups, requests leaving the site and a window.__xss flag that the payloads
set; after loading, synthetic events fire on every element (to run any handler
attribute), and the DOM is searched for anything a sanitizer must never let
through (script, handler attributes, scripting URLs, iframes, SVG, style...).

The Content-Security-Policy header is removed on the way to the browser: the
sanitizer and the templates' escaping must hold on their own, and the CSP is a
second line checked in test_headers. A positive control runs the same harness
on an unsanitized page, so this test cannot pass by seeing nothing.
"""

import email
import email.policy
import math
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import insert
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
      if (action && (!action.startsWith('/') || action.startsWith('//'))) found.push(`form: ${show(element)}`);
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
    return "xssneedle" + chr(97 + number // 26) + chr(97 + number % 26)


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
    from coprod_study.markup import render_markdown
    from coprod_study.models import Episode, Post
    from coprod_study.services import answers as answer_service
    from coprod_study.services import digests, discussion, notifications, transcripts
    from coprod_study.services import groups as group_service
    from coprod_study.services.accounts import MAX_DISPLAY_NAME

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
    from coprod_study.services import groups as group_service

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
        for batch in range(math.ceil(count / SEARCH_BATCH)):
            open_page(f"{live_server}/search?q={_needle(batch)}", "search snippet", ".snippet")
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
