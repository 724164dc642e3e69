"""The sample catalog's audio: packaged, served, timed like its transcripts; invented voices only."""

import io
import re
import tomllib
import xml.etree.ElementTree as ET  # noqa: S405 (parses the app's own feed)
from pathlib import Path

import pytest
from mutagen.mp3 import MP3
from sqlalchemy import select

from coprod_study import STATIC_DIR
from coprod_study.catalog import service as catalog
from coprod_study.catalog import transcript as transcript_service
from coprod_study.extensions import db
from coprod_study.models import Chapter, Episode

REAL_HOST = "Paul Batalden"
ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((ROOT / "scripts" / "sample_audio").glob("*.toml"))


def sample_episodes():
    return db.session.scalars(select(Episode).order_by(Episode.number)).all()


def chapters_of(episode):
    return db.session.scalars(
        select(Chapter).where(Chapter.episode_id == episode.id).order_by(Chapter.position)
    ).all()


def test_every_sample_episode_has_packaged_audio_that_matches_its_transcripts(client, sample_catalog):
    episodes = sample_episodes()
    assert len(episodes) == 5
    for episode in episodes:
        assert episode.audio_url == f"/static/audio/sample/{episode.slug}.mp3"
        packaged = STATIC_DIR / "audio" / "sample" / f"{episode.slug}.mp3"
        assert packaged.is_file() and packaged.stat().st_size < 1024 * 1024
        response = client.get(episode.audio_url)
        assert response.status_code == 200
        assert response.mimetype == "audio/mpeg"
        audio = MP3(io.BytesIO(response.get_data()))
        assert audio.info.channels == 1
        length = audio.info.length
        # The catalog's duration is the file's, in whole seconds as players show it.
        assert episode.duration_seconds <= length < episode.duration_seconds + 1, episode.slug
        languages = transcript_service.languages(episode)
        assert "en" in languages
        cue_starts = set()
        for language in languages:
            segments = transcript_service.get_transcript(episode, language).segments
            assert segments[-1].end_ms / 1000 <= length, (episode.slug, language)
            cue_starts |= {segment.start_ms // 1000 for segment in segments}
        # Each chapter starts on the second one of the spoken lines starts in.
        chapters = chapters_of(episode)
        assert chapters and all(c.start_seconds in cue_starts | {0} for c in chapters)
        assert chapters[-1].start_seconds < length


def test_every_language_of_a_transcript_shares_the_spoken_timing(sample_catalog):
    episode = sample_episodes()[0]
    english, swedish = (
        transcript_service.get_transcript(episode, language).segments for language in ("en", "sv")
    )
    assert [(s.start_ms, s.end_ms, s.speaker) for s in english] == [
        (s.start_ms, s.end_ms, s.speaker) for s in swedish
    ]
    assert english[0].text != swedish[0].text


def test_sample_transcripts_give_words_only_to_the_invented_host_and_guests(sample_catalog):
    for episode in sample_episodes():
        assert episode.host_name and episode.host_name != REAL_HOST
        cast = {episode.host_name} | {g.person.name for g in episode.guests}
        for language in transcript_service.languages(episode):
            transcript = transcript_service.get_transcript(episode, language)
            assert {s.speaker for s in transcript.segments} <= cast, (episode.slug, language)
            assert REAL_HOST not in transcript.vtt and "Paul" not in transcript.vtt
        # Every takeaway is a lesson in the catalog's own voice, never a quotation.
        for takeaway in episode.takeaways:
            assert not re.search(r"[\"“”]", takeaway.text), takeaway.text
        assert all("invented" in g.person.bio for g in episode.guests)
    # The real host may be named as a fact, in the sample's own notice.
    first = sample_episodes()[0]
    assert "The real series is hosted by Paul Batalden" in first.summary
    assert "invented" in first.summary


def test_the_episode_page_plays_the_sample_audio_from_this_site(client, sample_catalog):
    page = client.get("/episodes/respect-in-the-room").get_data(as_text=True)
    assert 'src="/static/audio/sample/respect-in-the-room.mp3"' in page
    assert 'href="/static/audio/sample/respect-in-the-room.mp3"' in page
    # The message player.js shows when the audio fails is in the page, hidden, with
    # the download link; the status it goes into is empty until then.
    assert '<p class="player-status" role="status" data-player-status></p>' in page
    hidden = re.search(r"<p hidden data-player-problem>(.*?)</p>", page).group(1)
    assert hidden.startswith("The audio could not be played.")
    assert 'href="/static/audio/sample/respect-in-the-room.mp3"' in hidden
    assert "<template" not in page  # the XSS suite allows none on any page


def test_the_feed_gives_the_sample_audio_an_absolute_address(client, sample_catalog):
    root = ET.fromstring(client.get("/feed.xml").get_data())  # noqa: S314 (the app's own feed)
    urls = [e.get("url") for e in root.iter("enclosure")]
    assert len(urls) == 5
    assert all(re.match(r"^http://localhost/static/audio/sample/[a-z-]+\.mp3$", u) for u in urls)


@pytest.mark.parametrize(
    ("audio_url", "problem"),
    [
        ("/static/audio/sample/respect-in-the-room.mp3", None),
        ("https://media.example.org/ep.mp3", None),
        ("//media.example.org/ep.mp3", "audio_url must be an http(s) URL or a path on this site"),
        ("ftp://media.example.org/ep.mp3", "audio_url must be an http(s) URL or a path on this site"),
        ("/static/a b.mp3", "audio_url must be an http(s) URL or a path on this site"),
    ],
)
def test_an_audio_url_is_an_http_address_or_a_path_on_this_site(app, audio_url, problem):
    document = {
        "dimensions": [{"slug": "d", "name": "D"}],
        "episodes": [{"slug": "e", "number": 1, "title": "E", "dimension": "d", "audio_url": audio_url}],
    }
    if problem is None:
        assert catalog.validate(document)["episodes"][0]["audio_url"] == audio_url
        return
    with pytest.raises(catalog.CatalogError) as error:
        catalog.validate(document)
    assert error.value.problems == [f'episode "e": {problem}']


def test_a_reference_url_must_still_be_an_http_address(app):
    document = {
        "dimensions": [{"slug": "d", "name": "D"}],
        "episodes": [{
            "slug": "e", "number": 1, "title": "E", "dimension": "d",
            "references": [{"citation": "C", "url": "/static/x"}],
        }],
    }
    with pytest.raises(catalog.CatalogError, match="url must be an http"):
        catalog.validate(document)


def test_the_sample_durations_fit_their_chapters(sample_catalog):
    for episode in sample_episodes():
        assert max(c.start_seconds for c in chapters_of(episode)) < episode.duration_seconds


@pytest.mark.parametrize("script_path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_the_transcripts_and_chapters_are_what_the_script_speaks(sample_catalog, script_path):
    """scripts/make_sample_audio.py wrote them: a hand edit to a transcript or a chapter
    that the recording does not say fails here (edit the script and run it again)."""
    script = tomllib.loads(script_path.read_text(encoding="utf-8"))
    episode = db.session.scalar(select(Episode).where(Episode.slug == script["slug"]))
    lines = script["lines"]
    languages = transcript_service.languages(episode)
    assert languages == sorted({k for line in lines for k in line} - {"speaker", "chapter"})
    for language in languages:
        segments = transcript_service.get_transcript(episode, language).segments
        assert [(s.speaker, s.text) for s in segments] == [(line["speaker"], line[language]) for line in lines]
    english = transcript_service.get_transcript(episode, "en").segments
    opened = [
        (line["chapter"], 0 if segment.start_ms < 1000 else segment.start_ms // 1000)
        for line, segment in zip(lines, english, strict=True)
        if line.get("chapter")
    ]
    assert [(c.title, c.start_seconds) for c in chapters_of(episode)] == opened
