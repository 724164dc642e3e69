"""/feed.xml against the Podcasting 2.0 namespace's rules, and as feedparser reads it."""

import xml.etree.ElementTree as ET

import feedparser

from coprod_study.extensions import db
from tests.podcast_namespace import PODCAST, problems
from tests.test_feeds import make_catalog


def parse(body: bytes):
    return ET.fromstring(body)  # noqa: S314 (the app's own output, under test)


def test_feed_keeps_the_namespace_rules(app, client):
    make_catalog()
    root = parse(client.get("/feed.xml").get_data())
    assert problems(root) == []
    # Every tag the feed is documented to carry is there to be checked.
    names = {e.tag.split("}", 1)[1] for e in root.iter() if e.tag.startswith(f"{{{PODCAST}}}")}
    assert {"person", "transcript", "chapters"} <= names


def test_no_social_interact_with_an_unregistered_protocol(app, client):
    make_catalog()
    root = parse(client.get("/feed.xml").get_data())
    for item in root.iter("item"):
        for social in item.findall(f"{{{PODCAST}}}socialInteract"):
            assert social.get("protocol") in {
                "disabled", "activitypub", "twitter", "lightning", "bluesky", "hive",
                "matrix", "nostr",
            }
        # The discussion is still one plain link away.
        assert item.findtext("link").startswith("http://localhost/episodes/")


def test_the_checker_catches_what_the_namespace_forbids():
    bad = parse(
        f"""<rss xmlns:podcast="{PODCAST}"><channel><item>
        <podcast:socialInteract uri="https://x.example/e" protocol="web"/>
        <podcast:socialInteract protocol="activitypub"/>
        <podcast:transcript url="https://x.example/t.vtt"/>
        <podcast:chapters url="ftp://x" type="application/json+chapters"/>
        <podcast:person role="villain">Someone</podcast:person>
        <podcast:comments url="https://x.example"/>
        </item></channel></rss>""".encode()
    )
    assert problems(bad) == [
        "podcast:socialInteract protocol='web' is not allowed",
        "podcast:socialInteract lacks uri",
        "podcast:transcript lacks type",
        "podcast:chapters url='ftp://x' is not allowed",
        "podcast:person role='villain' is not allowed",
        "podcast:comments is not a tag of the namespace",
    ]


def test_feedparser_reads_the_feed_cleanly(app, client):
    first, second = make_catalog()
    first.title = 'Quotes "here" & <b>there</b>'
    db.session.commit()
    parsed = feedparser.parse(client.get("/feed.xml").get_data())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.title == app.config["SITE_NAME"]
    titles = [entry.title for entry in parsed.entries]
    assert titles == ["Patients as partners", 'Quotes "here" & <b>there</b>']
    entry = parsed.entries[1]
    assert entry.link == "http://localhost/episodes/bedside"
    assert entry.id == "urn:test:episode-1"
    assert entry.enclosures[0]["href"] == "https://media.example.org/ep1.mp3"
    assert entry.enclosures[0]["type"] == "audio/mpeg"
    assert entry.itunes_duration == "3723"
    assert entry.published_parsed[:3] == (2024, 3, 5)
