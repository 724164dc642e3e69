"""Shared links: OpenGraph/Twitter cards on public pages only, card images, the LinkedIn link."""

import io
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from sqlalchemy import select

from coprod_study.catalog import card_images, sharing
from coprod_study.extensions import db
from coprod_study.models import Episode
from tests.conftest import login
from tests.factories import add_member, make_group

CARD_TAGS = ("og:title", "og:description", "og:url", "og:type", "og:image")
TWITTER_TAGS = ("twitter:card", "twitter:title", "twitter:description", "twitter:image")


class Head(HTMLParser):
    """The meta and link tags of a page's <head>, and its JSON-LD blocks, as parsed."""

    def __init__(self, html: str):
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict] = []
        self.json_ld: list[str] = []
        self.scripts: list[dict] = []
        self._in_head = False
        self._in_ld = False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self._in_head = True
        if tag == "script":
            self.scripts.append(attrs)
            self._in_ld = attrs.get("type") == "application/ld+json"
            if self._in_ld:
                self.json_ld.append("")
        if not self._in_head:
            return
        if tag == "meta":
            name = attrs.get("property") or attrs.get("name")
            if name:
                self.meta.setdefault(name, []).append(attrs.get("content"))
        if tag == "link":
            self.links.append(attrs)

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False
        if tag == "script":
            self._in_ld = False

    def handle_data(self, data):
        if self._in_ld:
            self.json_ld[-1] += data

    def one(self, name: str) -> str:
        values = self.meta.get(name, [])
        assert len(values) == 1, f"{name}: {values}"
        return values[0]

    def structured(self) -> list[dict]:
        return [json.loads(block) for block in self.json_ld]


def head_of(client, path: str) -> Head:
    response = client.get(path)
    assert response.status_code == 200, path
    return Head(response.get_data(as_text=True))


def first_episode() -> Episode:
    return db.session.scalars(select(Episode).order_by(Episode.number)).first()


@pytest.fixture
def public_group(app):
    group = make_group(name="Open circle", description="We read *slowly* & together.")
    return group


def public_paths(episode, group) -> list[str]:
    return [
        "/",
        f"/episodes/{episode.slug}",
        "/dimensions",
        f"/episodes/{episode.slug}/transcript",
        f"/groups/{group.slug}",
    ]


def test_every_public_page_sends_a_card(client, sample_catalog, public_group):
    episode = first_episode()
    for path in public_paths(episode, public_group):
        head = head_of(client, path)
        for name in CARD_TAGS + TWITTER_TAGS:
            assert head.one(name), (path, name)
        # The transcript's own address names the language it shows (?lang=).
        assert head.one("og:url").split("?")[0] == "http://localhost" + path
        assert head.one("og:image").startswith("http://localhost/")
        assert head.one("og:image:width") == "1200"
        assert head.one("og:image:height") == "627"
        assert head.one("twitter:card") == "summary_large_image"


def test_cards_say_what_the_page_is(client, sample_catalog, public_group):
    episode = first_episode()
    head = head_of(client, f"/episodes/{episode.slug}")
    assert head.one("og:title") == episode.title
    assert head.one("og:type") == "article"
    image = urlsplit(head.one("og:image"))
    assert image.path == f"/episodes/{episode.slug}/card.png"
    assert parse_qs(image.query)["v"] == [sharing.episode_image_key(episode)]
    assert "<" not in head.one("og:description") and len(head.one("og:description")) <= 200

    group_head = head_of(client, f"/groups/{public_group.slug}")
    assert group_head.one("og:title") == "Open circle"
    assert group_head.one("og:description") == "We read slowly & together."
    assert group_head.one("og:type") == "website"


def test_private_pages_send_no_card(app, client, sample_catalog, make_user):
    member = make_user()
    group = make_group(name="Members' room")
    add_member(group, member)
    secret = make_group(name="Invite only", join_policy="invite")
    pending = make_user()
    add_member(secret, pending, status="pending")
    login(client, member)
    for path in (f"/groups/{group.slug}", "/account", "/search?q=care", "/notifications"):
        head = head_of(client, path)
        assert not any(key.startswith(("og:", "twitter:")) for key in head.meta), path
        assert head.json_ld == [], path
    client = app.test_client()
    login(client, pending)
    # An invite-only group's page (seen here by someone waiting to be admitted) is never a card.
    head = head_of(client, f"/groups/{secret.slug}")
    assert "og:title" not in head.meta
    # A member page shown as a join prompt (403) is not shared either.
    response = client.get(f"/groups/{group.slug}/members")
    assert response.status_code == 403
    assert "og:title" not in Head(response.get_data(as_text=True)).meta


HOSTILE = 'Say "yes" & <script>alert(1)</script> \'now\' ' + "x" * 60


LONG_TITLE = ("Välkommen " * 50)[:500]


@pytest.mark.parametrize("title", [HOSTILE, "A" * 199, "word " * 39, LONG_TITLE])
def test_hostile_titles_never_break_a_tag_or_an_image(app, client, sample_catalog, title):
    if len(title) > 200 and app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("PostgreSQL holds titles to 200 characters; SQLite keeps what it is given")
    episode = first_episode()
    episode.title = title
    episode.summary = 'A "quoted" <b>summary</b> & more'
    db.session.commit()
    response = client.get(f"/episodes/{episode.slug}")
    html = response.get_data(as_text=True)
    head = Head(html)
    assert "<script>alert(1)" not in html
    og_title = head.one("og:title")
    assert og_title == sharing.plain_text(title, sharing.TITLE_LIMIT)
    assert len(og_title) <= sharing.TITLE_LIMIT
    assert head.one("twitter:title") == og_title
    assert head.structured()[0]["name"] == sharing.plain_text(title, 500)
    image = client.get(urlsplit(head.one("og:image")).path)
    assert image.status_code == 200
    assert Image.open(io.BytesIO(image.get_data())).size == (1200, 627)


def test_a_500_character_title_and_control_characters_still_draw(app):
    picture = Image.open(io.BytesIO(card_images.draw_card("Episode 1\x00\u202e", "Ö" * 500, "x" * 300)))
    assert picture.size == (1200, 627)
    assert picture.format == "PNG"
    assert sharing.plain_text("z" * 500, 200).endswith("…")
    assert len(sharing.plain_text("z" * 500, 200)) == 200


def test_episode_image_is_served_kept_and_redrawn_when_the_episode_changes(
    app, client, sample_catalog
):
    episode = first_episode()
    first = client.get(f"/episodes/{episode.slug}/card.png")
    assert first.status_code == 200
    assert first.mimetype == "image/png"
    assert first.headers["Content-Type"] == "image/png"
    assert first.cache_control.public and first.cache_control.max_age == 86400
    key = sharing.episode_image_key(episode)
    assert first.headers["ETag"] == f'"{key}"'
    assert Image.open(io.BytesIO(first.get_data())).size == (1200, 627)
    folder = Path(app.instance_path) / "cards"
    assert [p.name for p in folder.glob(f"episode-{episode.id}-*.png")] == [
        f"episode-{episode.id}-{key}.png"
    ]
    again = client.get(f"/episodes/{episode.slug}/card.png", headers={"If-None-Match": f'"{key}"'})
    assert again.status_code == 304

    episode.title = "A new title for the card"
    db.session.commit()
    new_key = sharing.episode_image_key(episode)
    assert new_key != key
    redrawn = client.get(f"/episodes/{episode.slug}/card.png")
    assert redrawn.headers["ETag"] == f'"{new_key}"'
    assert redrawn.get_data() != first.get_data()
    assert [p.name for p in folder.glob(f"episode-{episode.id}-*.png")] == [
        f"episode-{episode.id}-{new_key}.png"
    ]
    head = head_of(client, f"/episodes/{episode.slug}")
    assert parse_qs(urlsplit(head.one("og:image")).query)["v"] == [new_key]


def test_the_key_follows_number_and_dimension(app, sample_catalog):
    episode = first_episode()
    key = sharing.episode_image_key(episode)
    episode.number = 999
    assert sharing.episode_image_key(episode) != key
    episode.number = 1
    other = db.session.scalars(select(Episode).where(Episode.id != episode.id)).first()
    if other.dimension_id != episode.dimension_id:
        episode.dimension = other.dimension
        assert sharing.episode_image_key(episode) != key
    db.session.rollback()


def test_site_card_image_and_unknown_episode(client, sample_catalog):
    response = client.get("/card.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert Image.open(io.BytesIO(response.get_data())).size == (1200, 627)
    assert client.get("/episodes/no-such-episode/card.png").status_code == 404


def test_episode_page_has_a_plain_linkedin_link(client, sample_catalog):
    episode = first_episode()
    html = client.get(f"/episodes/{episode.slug}").get_data(as_text=True)
    parser = Head(html)
    assert not any("linkedin" in (s.get("src") or "") for s in parser.scripts)
    start = html.index('class="share-linkedin"')
    anchor = html[html.rindex("<a ", 0, start) : html.index("</a>", start)]
    href = anchor.split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https", "www.linkedin.com", "/sharing/share-offsite/"
    )
    assert parse_qs(parts.query)["url"] == [f"http://localhost/episodes/{episode.slug}"]
    assert "Share on LinkedIn" in anchor


# --- Structured data, sitemap, robots.txt, language alternates -------------------------

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_json_ld_describes_the_episode_and_the_series(client, sample_catalog):
    episode = first_episode()
    [data] = head_of(client, f"/episodes/{episode.slug}").structured()
    assert data["@context"] == "https://schema.org"
    assert data["@type"] == "PodcastEpisode"
    assert data["name"] == episode.title
    assert data["episodeNumber"] == episode.number
    assert data["url"] == f"http://localhost/episodes/{episode.slug}"
    assert data["partOfSeries"]["@type"] == "PodcastSeries"
    assert data["associatedMedia"]["contentUrl"] == episode.audio_url
    assert data["datePublished"] == episode.published_on.isoformat()
    for path in ("/", "/dimensions"):
        [series] = head_of(client, path).structured()
        assert series["@type"] == "PodcastSeries"
        assert series["webFeed"] == "http://localhost/feed.xml"


def test_json_ld_cannot_be_closed_by_a_title(client, sample_catalog):
    episode = first_episode()
    episode.title = '</script><script>alert("x")</script>'
    db.session.commit()
    html = client.get(f"/episodes/{episode.slug}").get_data(as_text=True)
    assert "</script><script>alert" not in html
    [data] = Head(html).structured()
    assert data["name"] == '</script><script>alert("x")</script>'


def test_public_pages_name_their_language_versions(client, sample_catalog):
    episode = first_episode()
    head = head_of(client, f"/episodes/{episode.slug}")
    alternates = {
        link["hreflang"]: link["href"] for link in head.links
        if link.get("rel") == "alternate" and link.get("hreflang")
    }
    page = f"http://localhost/episodes/{episode.slug}"
    assert alternates == {"en": page + "?hl=en", "sv": page + "?hl=sv", "x-default": page}
    swedish = client.get(f"/episodes/{episode.slug}?hl=sv").get_data(as_text=True)
    assert '<html lang="sv">' in swedish
    assert Head(swedish).one("og:url") == page + "?hl=sv"
    assert Head(swedish).one("og:locale") == "sv"
    assert '<html lang="en">' in client.get(f"/episodes/{episode.slug}?hl=en").get_data(
        as_text=True
    )


def test_sitemap_lists_public_pages_only(client, sample_catalog, make_user):
    from xml.etree import ElementTree as ET

    listed = make_group(name="Listed circle", join_policy="request")
    hidden = make_group(name="Hidden circle", join_policy="invite")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.get_data())  # noqa: S314 (the app's own output)
    urls = root.findall(f"{SITEMAP}url")
    locations = [u.findtext(f"{SITEMAP}loc") for u in urls]
    episodes = db.session.scalars(select(Episode)).all()
    for episode in episodes:
        assert f"http://localhost/episodes/{episode.slug}" in locations
    assert f"http://localhost/groups/{listed.slug}" in locations
    assert not any(hidden.slug in loc for loc in locations)
    assert any("/transcript?lang=" in loc for loc in locations)
    for url in urls:
        languages = {link.get("hreflang") for link in url.findall(f"{XHTML}link")}
        assert languages == {"en", "sv", "x-default"}
    # Every address answers a visitor, with nothing of a member's view in it.
    for location in locations:
        page = client.get(location.removeprefix("http://localhost"))
        assert page.status_code == 200, location


def test_robots_txt_points_at_the_sitemap_and_keeps_out_of_private_areas(client, sample_catalog):
    hidden = make_group(name="Hidden circle", join_policy="invite")
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "User-agent: *" in lines
    for prefix in ("/account", "/admin", "/api/", "/search"):
        assert f"Disallow: {prefix}" in lines
    assert hidden.slug not in response.get_data(as_text=True)


def test_a_hostile_group_name_and_description_stay_text_in_the_tags(client, sample_catalog):
    name = '"><script>alert(1)</script>\' & x'
    group = make_group(name=name, description='<img src=x onerror=alert(1)> **bold** "q"')
    html = client.get(f"/groups/{group.slug}").get_data(as_text=True)
    head = Head(html)
    assert head.one("og:title") == name
    # What was typed shows as text, as it does on the page itself.
    assert head.one("og:description") == '<img src=x onerror=alert(1)> bold "q"'
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    # The only scripts are the site's own file and the JSON-LD data block.
    assert all(s.get("type") == "application/ld+json" or s.get("src") for s in head.scripts)
    [data] = head.structured()
    assert data["@type"] == "PodcastSeries"


def test_without_a_system_font_pillows_own_face_draws_letters_without_accents(app, monkeypatch):
    card_images._system_font.cache_clear()
    monkeypatch.setattr(card_images, "SYSTEM_FONTS", ("no-such-font-anywhere.ttf",))
    try:
        assert card_images._system_font() is None
        assert card_images._clean("Välkommen, Åsa och Örjan") == "Valkommen, Asa och Orjan"
        picture = Image.open(io.BytesIO(card_images.draw_card("Avsnitt 1", "Ömsesidig respekt", "x")))
        assert picture.size == (1200, 627)
    finally:
        card_images._system_font.cache_clear()
