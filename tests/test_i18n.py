"""The interface in English and Swedish: complete catalogs, Swedish pages, the language switch."""

import io
import tomllib
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import url_for
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from coprod_study import PACKAGE_DIR
from coprod_study.extensions import db
from coprod_study.models import Episode, Notification
from tests import factories
from tests.conftest import login, post_form

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = PACKAGE_DIR / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

# Phrases of the English interface that must not show on a Swedish page.
ENGLISH_PHRASES = [
    "Sign in",
    "Sign out",
    "Register",
    "Study groups",
    "Episodes",
    "Dimensions",
    "Post answer",
    "Preview",
    "Mark as listened",
    "Notifications",
    "Search",
    "Your account",
    "Members",
    "Start a thread",
    "No results",
    "Study questions",
    "Takeaways",
    "Chapters",
    "Save settings",
    "Language",
    "Skip to content",
    "Courses",
    "Home",
]


# --- The catalogs ---------------------------------------------------------------------------


def _extract() -> dict:
    """Every message id in the sources, extracted afresh as `pybabel extract` would."""
    with open(ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)

    def directory_filter(path) -> bool:
        # Babel skips "_"-folders by default; templates/_macros must be read.
        name = Path(path).name
        return not name.startswith(".") and name != "__pycache__"

    found = {}
    for _filename, _lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS, directory_filter=directory_filter
    ):
        key = message[0] if isinstance(message, tuple) else message
        if key:
            found[(key, context)] = message
    return found


def _catalog(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


@pytest.fixture(scope="module")
def extracted():
    return _extract()


def test_extraction_finds_the_interface(extracted):
    # A guard against an extraction that silently reads nothing.
    assert len(extracted) > 900
    for message in ("Sign in", "Previous", "Post answer", "Parts of this episode are not "
                    "translated yet and are shown in English."):
        assert (message, None) in extracted


@pytest.mark.parametrize("language", ["sv", "en"])
def test_catalog_has_every_message_translated(extracted, language):
    catalog = _catalog(language)
    missing, empty, wrong_plural = [], [], []
    for (key, context), message in extracted.items():
        entry = catalog.get(key, context=context)
        if entry is None:
            missing.append(key)
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if not all(s and s.strip() for s in strings):
            empty.append(key)
        if isinstance(message, tuple) != entry.pluralizable:
            wrong_plural.append(key)
        elif isinstance(message, tuple) and message[1] is not None and entry.id[1] != message[1]:
            wrong_plural.append(key)
    assert not missing, f"{len(missing)} message ids missing from {language}: {missing[:20]}"
    assert not empty, f"{len(empty)} empty translations in {language}: {empty[:20]}"
    assert not wrong_plural, f"plural forms differ in {language}: {wrong_plural[:20]}"


@pytest.mark.parametrize("language", ["sv", "en"])
def test_catalog_has_no_fuzzy_entries_and_sound_placeholders(language):
    catalog = _catalog(language)
    assert not catalog.fuzzy
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, fuzzy[:20]
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, problems[:20]


@pytest.mark.parametrize("language", ["sv", "en"])
def test_compiled_catalog_matches_its_source(language):
    """The .mo is what `pybabel compile` makes of the .po as it is now."""
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    compiled = read_mo(io.BytesIO((folder / "messages.mo").read_bytes()))
    source = _catalog(language)
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    expected = {plain(m.id): plain(m.string) for m in source if m.id and not m.fuzzy}
    actual = {plain(m.id): plain(m.string) for m in compiled if m.id}
    assert actual == expected, "run: pybabel compile -d coprod_study/translations"


# --- Pages in Swedish ----------------------------------------------------------------------


class _Text(HTMLParser):
    """What a reader sees: text, and labels given in attributes."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("aria-label", "placeholder", "title", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def assert_swedish(html: str, *expected: str) -> None:
    assert '<html lang="sv">' in html
    text = visible_text(html)
    english = [phrase for phrase in ENGLISH_PHRASES if phrase in text]
    assert not english, f"English on a Swedish page: {english}"
    for phrase in expected:
        assert phrase in text, f"{phrase!r} missing"


@pytest.fixture
def world(app, sample_catalog):
    """A Swedish-speaking educator who facilitates a group with a thread, and has a course."""
    from coprod_study.discussion import service as discussion
    from coprod_study.notifications import service as notifications

    person = factories.make_user(role="educator", name="Sara Svensson", language="sv",
                                 time_zone="Europe/Stockholm")
    group = factories.make_group(person, name="Studiecirkeln")
    episode = db.session.scalar(select(Episode).order_by(Episode.number))
    thread = discussion.create_thread(person, group, title="Första tråden", body="Hej alla.")
    course = factories.make_course(person, title="Samproduktion 1", code="SAMP-1")
    other = factories.make_user(language="en", name="Eve English")
    notifications.notify(
        [person.id, other.id],
        "join_request",
        _l("%(name)s asks to join %(group)s", name="Ola", group=group.name),
        "/groups",
    )
    db.session.commit()
    with app.test_request_context():
        paths = {
            "group": url_for("groups.show", slug=group.slug),
            "question": url_for(
                "groups.question", slug=group.slug, episode_slug=episode.slug, number=1
            ),
            "thread": url_for("discussion.thread", slug=group.slug, thread_id=thread.id),
            "course": url_for("courses.show", code=course.code),
            "episode": url_for("catalog.episode", slug=episode.slug),
        }
    return {"person": person, "other": other, "paths": paths}


VISITOR_PAGES = [
    ("/", ["Studera samproduktion av hälso- och sjukvård, tillsammans", "Logga in"]),
    ("/episodes", ["Avsnitt", "Alla dimensioner"]),
    ("/dimensions", ["Samproduktionens dimensioner"]),
    ("/auth/login", ["Logga in", "Glömt lösenordet?"]),
    ("/auth/register", ["Skapa ett konto", "Registrera dig"]),
    ("/groups", ["Studiegrupper", "Grupper du kan gå med i"]),
    ("/search?q=respekt", ["Sök", "träff"]),
    ("/search?q=zzzxqjkw", ["Inga träffar"]),
]


@pytest.mark.parametrize("path, expected", VISITOR_PAGES)
def test_visitor_pages_in_swedish_from_accept_language(client, world, path, expected):
    response = client.get(path, headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
    assert response.status_code == 200
    assert_swedish(response.get_data(as_text=True), *expected)


def test_visitor_episode_page_in_swedish(client, world):
    response = client.get(world["paths"]["episode"], headers={"Accept-Language": "sv"})
    assert_swedish(
        response.get_data(as_text=True),
        "för att hålla reda på vad du har lyssnat på",
        "Studiefrågor",
        "Om avsnittet",
    )


MEMBER_PAGES = [
    ("/", ["Mina studiegrupper", "Logga ut"]),
    ("/episodes", ["Avsnitt"]),
    ("episode", ["Markera som lyssnat", "Studiefrågor", "Lärdomar", "Kapitel"]),
    ("/dimensions", ["Samproduktionens dimensioner"]),
    ("/groups", ["Studiegrupper", "Mina grupper"]),
    ("group", ["Starta en tråd", "Medlemmar", "Trådar"]),
    ("question", ["Publicera svar", "Förhandsgranska", "Besvara frågan"]),
    ("thread", ["Förhandsgranska", "Publicera", "Avisera mig om den här tråden"]),
    ("/notifications", ["Aviseringar", "Ola vill gå med i Studiecirkeln"]),
    ("/search?q=respekt", ["Sök"]),
    ("/search?q=zzzxqjkw", ["Inga träffar"]),
    ("/account", ["Ditt konto", "Spara inställningarna", "Språk"]),
    ("course", ["Samproduktion 1", "Tilldela ett avsnitt", "Deltagare"]),
]


@pytest.mark.parametrize("page, expected", MEMBER_PAGES)
def test_member_pages_in_swedish_from_their_setting(client, world, page, expected):
    login(client, world["person"])
    path = world["paths"].get(page, page)
    # The person's setting wins over what the browser asks for.
    response = client.get(path, headers={"Accept-Language": "en"})
    assert response.status_code == 200, path
    assert_swedish(response.get_data(as_text=True), *expected)


def test_english_stays_the_default(client, world):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Sign in" in html and "Study groups" in html


def test_unsupported_browser_language_falls_back_to_english(client, world):
    html = client.get("/", headers={"Accept-Language": "de-DE,fr;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Sign in" in html


def test_an_english_setting_wins_over_a_swedish_browser(client, world):
    login(client, world["other"])
    html = client.get("/groups", headers={"Accept-Language": "sv"}).get_data(as_text=True)
    assert '<html lang="en">' in html and "Study groups" in html


def test_notifications_are_written_in_each_recipients_language(world):
    messages = dict(db.session.execute(select(Notification.user_id, Notification.message)).all())
    assert messages[world["person"].id] == "Ola vill gå med i Studiecirkeln"
    assert messages[world["other"].id] == "Ola asks to join Studiecirkeln"


# --- The footer switch ---------------------------------------------------------------------


def test_footer_switch_works_for_a_visitor_without_javascript(client, world):
    html = client.get("/episodes").get_data(as_text=True)
    # A plain form: a select and a submit button, no script needed.
    assert 'action="/language"' in html and 'name="language"' in html
    assert '<button type="submit" class="secondary">Change</button>' in html
    response = post_form(client, "/language", {"language": "sv", "next": "/episodes"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/episodes")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=sv") and "HttpOnly" in cookie
    assert_swedish(client.get("/episodes").get_data(as_text=True), "Avsnitt")
    post_form(client, "/language", {"language": "en", "next": "/episodes"})
    assert '<html lang="en">' in client.get("/episodes").get_data(as_text=True)


def test_footer_switch_refuses_unknown_languages_and_foreign_next(client, world):
    assert post_form(client, "/language", {"language": "xx"}).status_code == 400
    response = post_form(client, "/language", {"language": "sv", "next": "//evil.example"})
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_footer_switch_changes_a_members_setting(client, world):
    other = world["other"]
    login(client, other)
    post_form(client, "/language", {"language": "sv", "next": "/"})
    db.session.refresh(other)
    assert other.language == "sv"
    assert_swedish(client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True))


def test_a_members_setting_wins_over_the_cookie(client, world):
    client.set_cookie("lang", "en")
    login(client, world["person"])
    assert '<html lang="sv">' in client.get("/").get_data(as_text=True)


# --- Episode text in the reader's language -------------------------------------------------


def _sample_episode(slug: str) -> dict:
    from coprod_study.catalog import service as catalog

    data = tomllib.loads(catalog.sample_catalog_path().read_text())
    return next(e for e in data["episodes"] if e["slug"] == slug)


def test_the_sample_episode_in_swedish_uses_the_catalogs_swedish(client, world):
    sv = _sample_episode("respect-in-the-room")["translations"]["sv"]
    response = client.get("/episodes/respect-in-the-room", headers={"Accept-Language": "sv"})
    html = response.get_data(as_text=True)
    text = visible_text(html)
    assert sv["title"] in text
    first_paragraph = sv["summary"].strip().split("\n\n")[1]
    assert first_paragraph[:80] in text
    for item in sv["takeaways"] + sv["questions"] + sv["chapters"]:
        assert item in text, item
    assert "Respect in the Room" not in text
    assert 'id="untranslated-notice"' not in html
    assert_swedish(html, "Studiefrågor", "Lärdomar", "Kapitel och transkription")


def test_the_sample_episode_in_english_is_the_original(client, world):
    original = _sample_episode("respect-in-the-room")
    html = client.get("/episodes/respect-in-the-room").get_data(as_text=True)
    assert original["title"] in html and "Respekt i rummet" not in html
    assert 'id="untranslated-notice"' not in html


def test_an_untranslated_episode_says_so_in_swedish(client, world):
    from coprod_study.catalog import service as catalog

    data = tomllib.loads(catalog.sample_catalog_path().read_text())
    untranslated = next(e for e in data["episodes"] if "sv" not in e.get("translations", {}))
    response = client.get(f"/episodes/{untranslated['slug']}", headers={"Accept-Language": "sv"})
    html = response.get_data(as_text=True)
    assert 'id="untranslated-notice"' in html
    assert "Delar av avsnittet är inte översatta än och visas på engelska." in html
    # The original shows, marked as English for screen readers.
    assert f'<h1 lang="en">{untranslated["title"]}</h1>' in html
    assert_swedish(html)


def test_the_transcript_page_uses_the_readers_language(client, world):
    response = client.get(
        "/episodes/respect-in-the-room/transcript", headers={"Accept-Language": "sv"}
    )
    html = response.get_data(as_text=True)
    assert 'lang="sv"' in html and "Inledning" in html
    assert_swedish(html, "Transkription")


# --- Dates and times -----------------------------------------------------------------------


def test_dates_and_times_follow_the_locale_and_time_zone(app):
    from coprod_study.courses.service import format_in_zone
    from coprod_study.templating import local_time

    moment = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    person = factories.make_user(time_zone="Europe/Stockholm", language="sv")
    with app.test_request_context():
        from flask_login import login_user

        login_user(person)
        assert local_time(moment) == "1 maj 2024 14:30 CEST"
        assert local_time(moment, "%Y-%m-%d") == "1 maj 2024"
        with force_locale("en"):
            assert local_time(moment) == "May 1, 2024, 2:30\u202fPM CEST"
        assert format_in_zone(moment, "Europe/Stockholm") == (
            "ons 1 maj 2024, 14:30 CEST (Europe/Stockholm)"
        )


def test_times_for_a_visitor_are_in_utc(app):
    from coprod_study.templating import local_time

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert local_time(datetime(2024, 5, 1, 12, 30, tzinfo=UTC)) == (
            "May 1, 2024, 12:30\u202fPM UTC"
        )


def test_reset_mail_is_in_the_persons_language(client, app, outbox):
    person = factories.make_user(email="svensk@example.org", language="sv")
    post_form(client, "/auth/reset", {"email": person.email}, token_from="/auth/reset")
    mail = outbox()[-1]
    assert mail["Subject"].startswith("Återställ ditt lösenord")
    assert "Öppna den här länken" in mail.get_content()


def test_pages_vary_on_the_language_inputs(client, world):
    response = client.get("/episodes")
    assert {"Accept-Language", "Cookie"} <= set(response.vary)


@pytest.mark.parametrize(("language", "message"), [
    ("sv", "Inte ett giltigt val"),
    ("en", "Not a valid choice."),
])
def test_wtforms_own_messages_follow_the_reader(client, make_user, monkeypatch, language, message):
    """WTForms' built-in messages come in the reader's language, from a catalog read
    once per process and language, not at every request."""
    from babel import support

    from coprod_study import i18n

    monkeypatch.setattr(i18n, "WTFORMS_CATALOG", i18n.WTFormsCatalog())
    loads = []
    real_load = support.Translations.load

    def counting_load(*args, **kwargs):
        loads.append(kwargs.get("domain"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(support.Translations, "load", counting_load)
    user = make_user(name="Chooser", language=language)
    login(client, user)
    for _attempt in range(2):
        response = post_form(client, "/account", {
            "display_name": "Chooser", "language": "xx", "time_zone": "UTC",
            "email_preference": "daily",
        }, token_from="/account")
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert loads.count("wtforms") == 1
    db.session.refresh(user)
    assert user.language == language
