"""The podcast feed: safe fetching, importing RSS (idempotently, all or nothing), /feed.xml and its round trip."""

import io
import json
import socket
import threading
import time
import xml.etree.ElementTree as ET
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from textwrap import dedent

import pytest
from sqlalchemy import delete, func, select

from coprod_study.catalog import feed_import as feeds
from coprod_study.catalog import fetch
from coprod_study.catalog import transcript as transcript_service
from coprod_study.extensions import db
from coprod_study.models import (
    AuditEntry,
    Chapter,
    Dimension,
    Episode,
    EpisodeGuest,
    Person,
    Reference,
    StudyQuestion,
    Transcript,
    TranscriptSegment,
)
from tests.conftest import login, post_form

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
COUNTED = [Episode, Person, EpisodeGuest, Transcript, TranscriptSegment, Chapter, Dimension]

VTT_EN = dedent(
    """\
    WEBVTT

    00:00:01.000 --> 00:00:04.000
    <v Ada Host>Welcome to the episode.

    00:00:04.500 --> 00:00:09.000
    <v Jane Guest>Thank you for having me.

    00:00:09.500 --> 00:00:15.000
    <v Jane Guest>Let us talk about shared decisions.
    """
).encode()
SRT_SV = dedent(
    """\
    1
    00:00:01,000 --> 00:00:04,000
    Välkommen till avsnittet.

    2
    00:00:04,500 --> 00:00:09,000
    Tack för att jag fick komma.
    """
).encode()
CHAPTERS = {
    "version": "1.2.0",
    "chapters": [
        {"startTime": 0, "title": "Welcome"},
        {"startTime": 95.5, "title": "Shared decisions"},
        {"startTime": 300, "img": "https://example.org/art.jpg", "toc": False},
        {"startTime": 1800, "title": "What to try on Monday"},
    ],
}


# --- a local HTTP server ------------------------------------------------------------


class Site:
    """A throwaway web server on 127.0.0.1: path (with query) -> response."""

    def __init__(self):
        self.routes: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):  # noqa: N802 (the name http.server calls)
                site.requests.append((self.path, self.headers.get("Host", "")))
                route = site.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                time.sleep(route.get("delay", 0))
                body = route.get("body", b"")
                self.send_response(route.get("status", 200))
                for name, value in route.get("headers", {}).items():
                    self.send_header(name, value)
                if route.get("content_length", True):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                trickle = route.get("trickle")
                try:
                    if route.get("stall"):
                        # Half the body, then silence: only an overall deadline ends this.
                        self.wfile.write(body[: len(body) // 2])
                        self.wfile.flush()
                        time.sleep(route["stall"])
                        self.wfile.write(body[len(body) // 2 :])
                    elif trickle:
                        for offset in range(len(body)):
                            self.wfile.write(body[offset : offset + 1])
                            self.wfile.flush()
                            time.sleep(trickle)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path, body=b"", content_type="application/octet-stream", **options):
        headers = {"Content-Type": content_type, **options.pop("headers", {})}
        self.routes[path] = {"body": body, "headers": headers, **options}
        return self.base + path

    def redirect(self, path, location, status=302):
        self.routes[path] = {"status": status, "headers": {"Location": location}}
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site():
    server = Site()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch):
    """Whatever the code under test decides, no connection leaves this machine."""
    connected: list[str] = []
    real_connect = fetch._connect

    def guarded(address, port, timeout):
        assert address in {"127.0.0.1", "::1"}, f"tried to connect to {address}"
        connected.append(address)
        return real_connect(address, port, timeout)

    monkeypatch.setattr(fetch, "_connect", guarded)
    return connected


@pytest.fixture
def allow_loopback(app):
    app.config["FETCH_ALLOW_PRIVATE"] = True


# --- a feed written here ------------------------------------------------------------


def feed_xml(site, *, first_title="Sharing decisions at the bedside", extra_item=""):
    """An RSS 2.0 feed with iTunes and Podcasting 2.0 tags whose links point at `site`."""
    return dedent(
        f"""\
        <?xml version="1.0" encoding="UTF-8"?>
        <rss version="2.0" xmlns:itunes="{ITUNES}" xmlns:podcast="{PODCAST}">
        <channel>
          <title>A test series</title>
          <link>https://podcast.example.org/</link>
          <description>For the tests.</description>
          <language>en-GB</language>
          <podcast:person role="host">Channel Host</podcast:person>
          <item>
            <title>{first_title}</title>
            <guid isPermaLink="false">urn:test:episode-1</guid>
            <pubDate>Tue, 05 Mar 2024 10:00:00 +0000</pubDate>
            <description><![CDATA[<p>Two people <strong>decide together</strong>.</p>
              <p>Read <a href="https://example.org/paper">the paper</a>.<script>alert(1)</script></p>
              <ul><li>one</li><li>two</li></ul>]]></description>
            <enclosure url="https://media.example.org/ep1.mp3" length="1234" type="audio/mpeg"/>
            <itunes:duration>1:02:03</itunes:duration>
            <itunes:episode>1</itunes:episode>
            <podcast:person role="host">Ada Host</podcast:person>
            <podcast:person role="guest" href="https://example.org/jane">Jane Guest</podcast:person>
            <podcast:person role="Guest">Raj Guest</podcast:person>
            <podcast:person role="producer">Not A Guest</podcast:person>
            <podcast:transcript url="{site.base}/t/1.en.vtt" type="text/vtt" language="en"/>
            <podcast:transcript url="{site.base}/t/1.sv.srt" type="application/x-subrip" language="sv"/>
            <podcast:transcript url="{site.base}/t/1.html" type="text/html" language="en"/>
            <podcast:chapters url="{site.base}/c/1.json" type="application/json+chapters"/>
          </item>
          <item>
            <title>Patients as partners</title>
            <guid>urn:test:episode-2</guid>
            <pubDate>Tue, 12 Mar 2024 10:00:00 +0000</pubDate>
            <description>Plain text with *stars* and [brackets].</description>
            <enclosure url="https://media.example.org/ep2.mp3" length="0" type="audio/mpeg"/>
            <itunes:duration>2710</itunes:duration>
            <podcast:person role="guest">Jane Guest</podcast:person>
          </item>
          {extra_item}
        </channel>
        </rss>
        """
    ).encode()


def serve_extras(site):
    site.add("/t/1.en.vtt", VTT_EN, "text/vtt")
    site.add("/t/1.sv.srt", SRT_SV, "application/x-subrip")
    site.add("/c/1.json", json.dumps(CHAPTERS).encode(), "application/json+chapters")


def write_feed(tmp_path, content: bytes, name="feed.xml"):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


def episode_by_guid(guid) -> Episode:
    return db.session.scalar(select(Episode).where(Episode.guid == guid))


def chapter_rows(episode):
    return [
        (c.title, c.start_seconds)
        for c in db.session.scalars(
            select(Chapter).where(Chapter.episode_id == episode.id).order_by(Chapter.position)
        )
    ]


# --- importing ----------------------------------------------------------------------


def test_import_creates_episodes_guests_transcripts_and_chapters(app, site, allow_loopback, tmp_path):
    serve_extras(site)
    result = feeds.import_feed(write_feed(tmp_path, feed_xml(site)))

    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    assert (result.transcripts, result.chapters) == (2, 1)
    first = episode_by_guid("urn:test:episode-1")
    second = episode_by_guid("urn:test:episode-2")
    assert first.title == "Sharing decisions at the bedside"
    assert first.slug == "sharing-decisions-at-the-bedside"
    assert first.number == 1
    assert first.published_on == date(2024, 3, 5)
    assert first.audio_url == "https://media.example.org/ep1.mp3"
    assert first.duration_seconds == 3723
    assert first.host_name == "Ada Host"
    assert [g.person.name for g in first.guests] == ["Jane Guest", "Raj Guest"]
    # Show-note HTML became Markdown, then sanitized HTML; the script is gone.
    assert "**decide together**" in first.summary
    assert "[the paper](https://example.org/paper)" in first.summary
    assert "<strong>decide together</strong>" in first.summary_html
    assert 'href="https://example.org/paper"' in first.summary_html
    assert "<li>two</li>" in first.summary_html
    assert "script" not in first.summary and "alert" not in first.summary_html
    # Plain text keeps its punctuation instead of turning into emphasis or links.
    assert second.summary_html == "<p>Plain text with *stars* and [brackets].</p>"
    # No itunes:episode: the next free number. Item people replace the channel's,
    # so naming only a guest means no host.
    assert second.number == 2
    assert second.host_name is None
    assert second.duration_seconds == 2710
    assert [g.person.name for g in second.guests] == ["Jane Guest"]
    assert db.session.scalar(select(func.count()).select_from(Person).where(Person.name == "Jane Guest")) == 1
    assert first.dimension.slug == "uncategorised"

    english = transcript_service.get_transcript(first, "en")
    swedish = transcript_service.get_transcript(first, "sv")
    assert [(s.start_ms, s.speaker, s.text) for s in english.segments] == [
        (1000, "Ada Host", "Welcome to the episode."),
        (4500, "Jane Guest", "Thank you for having me."),
        (9500, "Jane Guest", "Let us talk about shared decisions."),
    ]
    assert [s.text for s in swedish.segments] == ["Välkommen till avsnittet.", "Tack för att jag fick komma."]
    assert transcript_service.get_transcript(second, "en") is None
    # The chapter without a title and hidden from the table of contents is left out.
    assert chapter_rows(first) == [("Welcome", 0), ("Shared decisions", 95), ("What to try on Monday", 1800)]
    assert chapter_rows(second) == []
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "catalog.feed_imported"))


def test_importing_twice_changes_nothing(app, site, allow_loopback, tmp_path):
    serve_extras(site)
    path = write_feed(tmp_path, feed_xml(site))
    feeds.import_feed(path)
    before = counts()
    segment_ids = sorted(db.session.scalars(select(TranscriptSegment.id)))
    chapter_ids = sorted(db.session.scalars(select(Chapter.id)))
    stamps = {e.id: e.updated_at for e in db.session.scalars(select(Episode))}

    again = feeds.import_feed(path)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert (again.transcripts, again.chapters) == (0, 0)
    assert not again.changed
    assert counts() == before
    # Not deleted and rewritten either: the very same rows.
    assert sorted(db.session.scalars(select(TranscriptSegment.id))) == segment_ids
    assert sorted(db.session.scalars(select(Chapter.id))) == chapter_ids
    assert {e.id: e.updated_at for e in db.session.scalars(select(Episode))} == stamps


def test_reimport_updates_by_guid_and_keeps_questions_and_references(app, site, allow_loopback, tmp_path):
    serve_extras(site)
    feeds.import_feed(write_feed(tmp_path, feed_xml(site)))
    episode = episode_by_guid("urn:test:episode-1")
    slug = episode.slug
    episode.questions.append(StudyQuestion(position=1, prompt="Who decides?", audiences=["learners"]))
    episode.references.append(Reference(position=1, citation="A study, 2020.", url="https://example.org/s"))
    db.session.commit()

    renamed = feed_xml(site, first_title="Deciding together at the bedside")
    result = feeds.import_feed(write_feed(tmp_path, renamed, "renamed.xml"))

    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    db.session.expire_all()
    episode = episode_by_guid("urn:test:episode-1")
    assert episode.title == "Deciding together at the bedside"
    assert episode.slug == slug  # links and bookmarks keep working
    assert [q.prompt for q in episode.questions] == ["Who decides?"]
    assert [r.citation for r in episode.references] == ["A study, 2020."]
    assert counts()["episodes"] == 2


def test_feed_joins_catalog_episodes_that_have_no_guid(app, site, allow_loopback, tmp_path):
    dimension = Dimension(slug="trust", name="Trust", position=1)
    db.session.add(dimension)
    db.session.add(
        Episode(slug="bedside", number=1, title="Old title", dimension=dimension,
                audio_url="https://media.example.org/ep1.mp3")
    )
    db.session.commit()
    result = feeds.import_feed(write_feed(tmp_path, feed_xml(site)))
    assert (result.created, result.updated) == (1, 1)
    episode = db.session.scalar(select(Episode).where(Episode.slug == "bedside"))
    assert episode.guid == "urn:test:episode-1"
    assert episode.title == "Sharing decisions at the bedside"
    assert episode.dimension.slug == "trust"  # an editor's choice of dimension stays


def test_feed_dimension_setting_places_new_episodes(app, site, tmp_path):
    db.session.add(Dimension(slug="partnership", name="Partnership", position=1))
    db.session.commit()
    app.config["FEED_DIMENSION"] = "partnership"
    feeds.import_feed(write_feed(tmp_path, feed_xml(site)))
    assert {e.dimension.slug for e in db.session.scalars(select(Episode))} == {"partnership"}
    assert db.session.scalar(select(Dimension).where(Dimension.slug == "uncategorised")) is None


BAD_FEEDS = {
    "not XML": b"this is not a feed",
    "broken XML": b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item></channel></rss>',
    "Atom": b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>',
    "no items": b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>',
    "an item without a title": None,  # built below: one good item, one bad
    "a duplicated guid": None,
    "empty": b"",
}


@pytest.mark.parametrize("kind", list(BAD_FEEDS))
def test_a_bad_feed_is_refused_and_nothing_is_written(app, site, allow_loopback, tmp_path, kind):
    serve_extras(site)
    content = BAD_FEEDS[kind]
    if kind == "an item without a title":
        content = feed_xml(site, extra_item="<item><guid>urn:test:3</guid></item>")
    elif kind == "a duplicated guid":
        content = feed_xml(site, extra_item="<item><title>Again</title><guid>urn:test:episode-2</guid></item>")
    before = counts()
    with pytest.raises(feeds.FeedError) as caught:
        feeds.import_feed(write_feed(tmp_path, content))
    message = caught.value.message
    expected = {
        "not XML": "not well-formed XML",
        "broken XML": "not well-formed XML: mismatched tag",
        "Atom": "not an RSS 2.0 podcast feed",
        "no items": "no episodes",
        "an item without a title": "item 3: no title",
        "a duplicated guid": "used by an earlier item too",
        "empty": "The feed is empty.",
    }[kind]
    assert expected in message
    assert counts() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_failure_while_writing_stores_nothing(app, site, tmp_path):
    app.config["FEED_DIMENSION"] = "missing"
    with pytest.raises(feeds.FeedError, match='FEED_DIMENSION names "missing"'):
        feeds.import_feed(write_feed(tmp_path, feed_xml(site)))
    assert counts() == {name: 0 for name in counts()}


def test_unreachable_transcripts_are_notes_not_failures(app, site, tmp_path):
    # Loopback is not allowed here, so the transcript and chapter links are refused.
    result = feeds.import_feed(write_feed(tmp_path, feed_xml(site)))
    assert result.created == 2
    assert result.transcripts == 0
    assert any("en transcript was not stored" in note and "loopback" in note for note in result.notes)
    assert any("chapters were not stored" in note for note in result.notes)
    assert counts()["transcripts"] == 0


def test_a_bad_transcript_file_is_reported_with_its_line(app, site, allow_loopback, tmp_path):
    serve_extras(site)
    site.add("/t/1.en.vtt", b"WEBVTT\n\n00:00:01.000 --> nonsense\nHello\n", "text/vtt")
    result = feeds.import_feed(write_feed(tmp_path, feed_xml(site)))
    assert any("Line 3" in note for note in result.notes)
    first = episode_by_guid("urn:test:episode-1")
    assert transcript_service.get_transcript(first, "en") is None
    assert transcript_service.get_transcript(first, "sv") is not None


def test_people_follow_the_podcast_namespace():
    channel, items = feeds.parse_feed(
        dedent(
            f"""\
            <rss version="2.0" xmlns:podcast="{PODCAST}"><channel><title>S</title>
              <podcast:person>Channel Host</podcast:person>
              <podcast:person role="guest">Channel Guest</podcast:person>
              <item><title>A</title><guid>a</guid></item>
              <item><title>B</title><guid>b</guid>
                <podcast:person role="guest">Item Guest</podcast:person></item>
              <item><title>C</title><guid>c</guid>
                <podcast:person>Item Host</podcast:person><podcast:person role="co-host">Co</podcast:person></item>
            </channel></rss>"""
        ).encode()
    )
    # A: names nobody, so the channel's hosts apply and its guests are left as they are.
    assert [(i.guests, i.hosts) for i in items] == [
        (None, ["Channel Host"]),
        (["Item Guest"], None),
        ([], ["Item Host", "Co"]),
    ]


def test_feeds_with_entity_declarations_are_refused(app, tmp_path):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<rss version="2.0"><channel><title>&b;</title><item><title>x</title><guid>x</guid></item></channel></rss>'
    )
    with pytest.raises(feeds.FeedError, match="declares XML entities"):
        feeds.import_feed(write_feed(tmp_path, bomb))
    assert counts()["episodes"] == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("3723", 3723), ("1:02:03", 3723), ("62:03", 3723), ("45:10", 2710), ("1:02:03.6", 3723),
     ("", None), ("soon", None), ("1:2:3:4", None), ("-5", None)],
)
def test_itunes_durations(value, seconds):
    assert feeds.parse_itunes_duration(value) == seconds


def test_html_show_notes_become_safe_markdown():
    html = (
        '<h2>Notes</h2><p>A <em>fine</em> <a href="javascript:alert(1)">trick</a> and '
        '<a href="mailto:team@example.org">mail us</a>.</p><ol><li>first</li><li>second</li></ol>'
        "<blockquote>quoted</blockquote><p># not a heading</p>"
    )
    markdown = feeds.html_to_markdown(html)
    assert markdown == (
        "Notes\n\nA *fine* trick and [mail us](mailto:team@example.org).\n\n1. first\n2. second"
        "\n\n> quoted\n\n\\# not a heading"
    )


# --- the command line and the admin page ----------------------------------------------


@pytest.fixture
def runner(app):
    db.session.commit()

    class Runner:
        def invoke(self, *args, **kwargs):
            db.session.commit()
            result = app.test_cli_runner().invoke(*args, **kwargs)
            db.session.expire_all()
            return result

    return Runner()


def test_cli_import_feed(app, site, allow_loopback, runner, tmp_path):
    serve_extras(site)
    site.add("/feed.xml", feed_xml(site), "application/rss+xml")
    result = runner.invoke(args=["import-feed", f"{site.base}/feed.xml"])
    assert result.exit_code == 0, result.output
    assert "Feed imported: 2 created, 0 updated, 0 unchanged; 2 transcript(s) and 1 chapter list(s) stored." in result.output
    again = runner.invoke(args=["import-feed", write_feed(tmp_path, feed_xml(site))])
    assert again.exit_code == 0, again.output
    assert "Nothing changed: 0 created, 0 updated, 2 unchanged" in again.output


@pytest.mark.parametrize(
    ("source", "message"),
    [("file:///etc/passwd", "Only http and https"), ("/no/such/feed.xml", "no such file")],
)
def test_cli_refuses_bad_sources(app, runner, source, message):
    result = runner.invoke(args=["import-feed", source])
    assert result.exit_code != 0
    assert message in result.output
    assert "Nothing was imported" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def admin_client(app, make_user):
    client = app.test_client()
    login(client, make_user(role="admin"))
    return client


@pytest.mark.parametrize(("role", "status"), [(None, 302), ("learner", 403), ("educator", 403), ("admin", 200)])
def test_admin_feed_page_is_for_admins(client, make_user, role, status):
    if role:
        login(client, make_user(role=role))
    response = client.get("/admin/feed")
    assert response.status_code == status
    if status == 200:
        page = response.get_data(as_text=True)
        assert '<label for="url">Feed address</label>' in page
        assert '<label for="file">Or upload an RSS file</label>' in page
        assert 'enctype="multipart/form-data"' in page


def test_admin_uploads_a_feed_file(app, site, allow_loopback, admin_client):
    serve_extras(site)
    response = post_form(
        admin_client,
        "/admin/feed",
        {"file": (io.BytesIO(feed_xml(site)), "feed.xml", "application/rss+xml")},
        token_from="/admin/feed",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Feed imported" in page
    assert "<th scope=\"row\">Episodes created</th><td>2</td>" in page
    assert counts()["episodes"] == 2
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "catalog.feed_imported"))
    assert entry.actor_id is not None and entry.details["source"] == "feed.xml"

    again = post_form(
        admin_client,
        "/admin/feed",
        {"file": (io.BytesIO(feed_xml(site)), "feed.xml", "application/rss+xml")},
        token_from="/admin/feed",
    )
    assert "Nothing changed" in again.get_data(as_text=True)


def test_admin_imports_from_a_url(app, site, allow_loopback, admin_client):
    serve_extras(site)
    url = site.add("/feed.xml", feed_xml(site), "application/rss+xml")
    response = post_form(admin_client, "/admin/feed", {"url": url}, token_from="/admin/feed")
    assert response.status_code == 200
    assert "<th scope=\"row\">Episodes created</th><td>2</td>" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"url": "file:///etc/passwd"}, "Enter an address that starts with https:// or http://."),
        ({"url": "http://10.0.0.5/feed.xml"}, "is a private address (10.0.0.5)"),
        ({}, "Give the feed&#39;s address or choose an RSS file."),
        ({"file": (io.BytesIO(b"<rss><oops>"), "feed.xml")}, "not well-formed XML"),
    ],
)
def test_admin_feed_errors_are_shown_on_the_form(app, admin_client, data, message):
    response = post_form(admin_client, "/admin/feed", data, token_from="/admin/feed")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert counts()["episodes"] == 0


# --- fetching safely ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "Only http and https addresses can be fetched, not file"),
        ("ftp://example.org/feed.xml", "Only http and https addresses can be fetched, not ftp"),
        ("gopher://example.org/", "not gopher"),
        ("http://10.1.2.3/feed.xml", "10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("http://127.0.0.1/feed.xml", "a loopback address"),
        ("http://localhost/feed.xml", "a loopback address"),
        ("http://[::1]/feed.xml", "a loopback address"),
        ("http://[::ffff:127.0.0.1]/feed.xml", "a loopback address"),
        ("http://0.0.0.0/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://100.64.0.1/", "a non-public address"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http:///nohost", "has no host name"),
    ],
)
def test_fetch_refuses_other_schemes_and_internal_addresses(app, loopback_only, url, message):
    with pytest.raises(fetch.FetchError) as caught:
        fetch.fetch(url)
    assert message in caught.value.message
    assert loopback_only == []  # refused before any connection was made


def test_fetch_refuses_loopback_unless_allowed(app, site, loopback_only):
    url = site.add("/hello.txt", b"hello", "text/plain; charset=utf-8")
    with pytest.raises(fetch.FetchError, match="loopback"):
        fetch.fetch(url)
    assert site.requests == []
    app.config["FETCH_ALLOW_PRIVATE"] = True
    assert fetch.fetch(url) == (b"hello", "text/plain; charset=utf-8")
    app.config["FETCH_ALLOW_PRIVATE"] = ["127.0.0.1/32"]
    assert fetch.fetch(url)[0] == b"hello"


def test_fetch_follows_redirects_and_checks_each_hop(app, site):
    app.config["FETCH_ALLOW_PRIVATE"] = ["127.0.0.1/32"]  # loopback, and nothing else
    site.add("/final.xml", b"<rss/>", "application/rss+xml")
    first = site.redirect("/old.xml", "/final.xml", status=301)
    assert fetch.fetch(first) == (b"<rss/>", "application/rss+xml")

    sneaky = site.redirect("/sneaky", "http://10.0.0.7/admin")
    with pytest.raises(fetch.FetchError, match=r"10\.0\.0\.7 is a private address"):
        fetch.fetch(sneaky)
    metadata = site.redirect("/meta", "http://169.254.169.254/latest/")
    with pytest.raises(fetch.FetchError, match="link-local"):
        fetch.fetch(metadata)
    to_file = site.redirect("/file", "file:///etc/passwd")
    with pytest.raises(fetch.FetchError, match="Only http and https"):
        fetch.fetch(to_file)

    loop = site.redirect("/loop", "/loop")
    with pytest.raises(fetch.FetchError, match="redirected more than 2 times"):
        fetch.fetch(loop, max_redirects=2)
    assert sum(1 for path, _host in site.requests if path == "/loop") == 3


def test_fetch_connects_to_the_address_it_checked(app, site, monkeypatch, loopback_only):
    """The name is resolved once; the request keeps the name in its Host header."""
    app.config["FETCH_ALLOW_PRIVATE"] = True
    real = socket.getaddrinfo
    lookups = []

    def fake_getaddrinfo(host, port, *args, **kwargs):
        lookups.append(host)
        if host == "feeds.example.test":
            return real("127.0.0.1", port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    site.add("/feed.xml", b"ok", "text/plain")
    assert fetch.fetch(f"http://feeds.example.test:{site.port}/feed.xml")[0] == b"ok"
    # One lookup of the name; connecting only "resolves" the checked address literal.
    assert lookups.count("feeds.example.test") == 1
    assert set(lookups) == {"feeds.example.test", "127.0.0.1"}
    assert loopback_only == ["127.0.0.1"]
    assert site.requests == [("/feed.xml", f"feeds.example.test:{site.port}")]


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "streamed"])
def test_fetch_stops_at_the_size_cap(app, site, allow_loopback, declared):
    url = site.add("/big", b"x" * 5000, "text/plain", content_length=declared)
    with pytest.raises(fetch.FetchError, match="larger than 1000 bytes"):
        fetch.fetch(url, max_bytes=1000)
    assert fetch.fetch(url, max_bytes=5000)[0] == b"x" * 5000


@pytest.mark.parametrize(
    ("route", "timeout"),
    [({"delay": 1.5}, 0.3), ({"trickle": 0.1}, 0.5), ({"delay": 0.5, "stall": 2}, 0.8)],
    ids=["no-answer", "trickling-body", "stalling-body"],
)
def test_fetch_gives_up_on_a_slow_server(app, site, allow_loopback, route, timeout):
    site.routes["/slow"] = {"body": b"0123456789" * 3, "headers": {}, **route}
    started = time.monotonic()
    with pytest.raises(fetch.FetchError, match="did not answer in time"):
        fetch.fetch(f"{site.base}/slow", timeout=timeout)
    # The timeout bounds the whole exchange, not each read.
    assert time.monotonic() - started < timeout + 0.35


def test_fetch_reports_http_errors(app, site, allow_loopback):
    with pytest.raises(fetch.FetchError, match="answered 404"):
        fetch.fetch(f"{site.base}/missing")


# --- /feed.xml ------------------------------------------------------------------------


def make_catalog():
    """Two episodes with guests, a host, chapters and transcripts, written directly."""
    dimension = Dimension(slug="trust", name="Trust", position=1)
    jane, raj = Person(name="Jane Guest", bio="Nurse."), Person(name="Raj Guest")
    first = Episode(
        slug="bedside", number=1, title="Decisions <at> the bedside & after", dimension=dimension,
        summary="We **decide** together.", summary_html="<p>We <strong>decide</strong> together.</p>",
        published_on=date(2024, 3, 5), audio_url="https://media.example.org/ep1.mp3",
        duration_seconds=3723, host_name="Ada Host", guid="urn:test:episode-1",
    )
    second = Episode(
        slug="partners", number=2, title="Patients as partners", dimension=dimension,
        summary="Plain.", summary_html="<p>Plain.</p>", published_on=date(2024, 3, 12),
        audio_url="https://media.example.org/ep2.mp3", duration_seconds=2710,
    )
    first.guests = [EpisodeGuest(person=jane, position=1), EpisodeGuest(person=raj, position=2)]
    second.guests = [EpisodeGuest(person=jane, position=1)]
    db.session.add_all([first, second])
    db.session.flush()
    db.session.add_all(
        [
            Chapter(episode_id=first.id, position=1, title="Welcome", start_seconds=0),
            Chapter(episode_id=first.id, position=2, title="Shared decisions", start_seconds=95),
        ]
    )
    db.session.commit()
    transcript_service.store_transcript(first, "en", "bedside.vtt", VTT_EN)
    transcript_service.store_transcript(first, "sv", "bedside.srt", SRT_SV)
    return first, second


def parse_xml(body: bytes):
    return ET.fromstring(body)  # noqa: S314 (the app's own output, under test)


def item_for(root, title):
    return next(i for i in root.iter("item") if i.findtext("title") == title)


def test_feed_xml_is_rss_with_the_podcast_namespaces(app, client):
    first, second = make_catalog()
    response = client.get("/feed.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/rss+xml"
    body = response.get_data()
    assert f'xmlns:itunes="{ITUNES}"'.encode() in body
    assert f'xmlns:podcast="{PODCAST}"'.encode() in body
    root = parse_xml(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.find("channel").findall("item")
    assert [i.findtext("title") for i in items] == ["Patients as partners", "Decisions <at> the bedside & after"]

    item = item_for(root, "Decisions <at> the bedside & after")
    page = "http://localhost/episodes/bedside"
    assert item.findtext("link") == page
    assert item.find("guid").text == "urn:test:episode-1"
    assert item.find("guid").get("isPermaLink") == "false"
    assert item.findtext("description") == "<p>We <strong>decide</strong> together.</p>"
    assert item.findtext("pubDate") == "Tue, 05 Mar 2024 00:00:00 +0000"
    enclosure = item.find("enclosure")
    assert (enclosure.get("url"), enclosure.get("type"), enclosure.get("length")) == (
        "https://media.example.org/ep1.mp3", "audio/mpeg", "0"
    )
    assert item.findtext(f"{{{ITUNES}}}duration") == "3723"
    assert item.findtext(f"{{{ITUNES}}}episode") == "1"
    people = [(p.get("role"), p.text) for p in item.findall(f"{{{PODCAST}}}person")]
    assert people == [("host", "Ada Host"), ("guest", "Jane Guest"), ("guest", "Raj Guest")]
    transcripts = {t.get("language"): t for t in item.findall(f"{{{PODCAST}}}transcript")}
    assert set(transcripts) == {"en", "sv"}
    assert transcripts["sv"].get("url") == "http://localhost/episodes/bedside/transcript.vtt?lang=sv"
    assert transcripts["sv"].get("type") == "text/vtt"
    chapters = item.find(f"{{{PODCAST}}}chapters")
    assert chapters.get("url") == "http://localhost/episodes/bedside/chapters.json"
    assert chapters.get("type") == "application/json+chapters"
    # No registered socialInteract protocol describes a web page: the <link> leads there.
    assert item.find(f"{{{PODCAST}}}socialInteract") is None

    other = item_for(root, "Patients as partners")
    assert other.find("guid").text == "http://localhost/episodes/partners"
    assert other.find("guid").get("isPermaLink") == "true"
    assert other.find(f"{{{PODCAST}}}chapters") is None
    assert other.findall(f"{{{PODCAST}}}transcript") == []


def test_feed_xml_survives_hostile_text(app, client):
    first, _second = make_catalog()
    first.title = "]]></title><script>x</script>\x01\x0b end"
    first.host_name = 'Ada "Host" <b>'
    db.session.commit()
    root = parse_xml(client.get("/feed.xml").get_data())
    titles = [i.findtext("title") for i in root.iter("item")]
    assert "]]></title><script>x</script> end" in titles
    hosts = [p.text for p in root.iter(f"{{{PODCAST}}}person") if p.get("role") == "host"]
    assert hosts == ['Ada "Host" <b>']


def test_feed_xml_description_of_an_episode_without_notes_is_its_title_as_text(app, client):
    # A description is HTML to podcast apps; a title is text and must arrive as text.
    first, _second = make_catalog()
    first.title = '<img src=x onerror="alert(1)"> & <b>bold</b>'
    first.summary, first.summary_html = "", ""
    db.session.commit()
    root = parse_xml(client.get("/feed.xml").get_data())
    item = next(i for i in root.iter("item") if i.findtext("title") == first.title)
    assert item.findtext("description") == (
        "&lt;img src=x onerror=&#34;alert(1)&#34;&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
    )


def test_chapters_json(app, client):
    make_catalog()
    response = client.get("/episodes/bedside/chapters.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json+chapters"
    data = response.get_json(force=True)
    assert data["version"] == "1.2.0"
    assert data["chapters"] == [
        {"startTime": 0, "title": "Welcome"},
        {"startTime": 95, "title": "Shared decisions"},
    ]
    assert client.get("/episodes/nowhere/chapters.json").status_code == 404


def test_feed_xml_round_trips_through_the_importer(app, client, site, allow_loopback):
    """Publish the feed (and what it links to) on a local server, empty the catalog, import it back."""
    app.config["BASE_URL"] = site.base
    first, second = make_catalog()
    before = {
        e.title: (e.duration_seconds, e.number, e.published_on, e.audio_url, e.host_name,
                  [g.person.name for g in e.guests], chapter_rows(e))
        for e in (first, second)
    }
    published = client.get("/feed.xml").get_data()
    site.add("/feed.xml", published, "application/rss+xml")
    for link in parse_xml(published).iter():
        url = link.get("url")
        if url and url.startswith(site.base):
            path = url[len(site.base):]
            answer = client.get(path)
            assert answer.status_code == 200, path
            site.add(path, answer.get_data(), answer.mimetype)

    db.session.execute(delete(Episode))
    db.session.execute(delete(Person))
    db.session.execute(delete(Dimension))
    db.session.commit()
    db.session.expunge_all()
    assert counts() == {name: 0 for name in counts()}

    result = feeds.import_feed(f"{site.base}/feed.xml")

    assert result.created == 2, result.notes
    assert result.notes == []
    episodes = db.session.scalars(select(Episode)).all()
    after = {
        e.title: (e.duration_seconds, e.number, e.published_on, e.audio_url, e.host_name,
                  [g.person.name for g in e.guests], chapter_rows(e))
        for e in episodes
    }
    assert after == before
    imported = db.session.scalar(select(Episode).where(Episode.guid == "urn:test:episode-1"))
    assert imported.summary_html == "<p>We <strong>decide</strong> together.</p>"
    assert transcript_service.languages(imported) == ["en", "sv"]
    assert [s.text for s in transcript_service.get_transcript(imported, "sv").segments] == [
        "Välkommen till avsnittet.", "Tack för att jag fick komma."
    ]
    # And the second round changes nothing.
    again = feeds.import_feed(f"{site.base}/feed.xml")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
