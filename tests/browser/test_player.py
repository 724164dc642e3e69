"""The audio player in Chromium: the sample recording plays; a broken one says so, with a download link."""

import pytest
from sqlalchemy import select

from coprod_study.extensions import db
from coprod_study.models import Episode

pytestmark = pytest.mark.browser

BROKEN = "/static/audio/sample/no-such-recording.mp3"
STATUS = "[data-player-status]"


def break_audio(slug: str) -> None:
    episode = db.session.scalar(select(Episode).where(Episode.slug == slug))
    episode.audio_url = BROKEN
    db.session.commit()


@pytest.mark.parametrize("path", ["", "/transcript"])
def test_audio_that_cannot_be_loaded_shows_a_message_with_a_download_link(live_server, page, path):
    slug = "what-each-of-us-knows"
    break_audio(slug)
    page.goto(f"{live_server}/episodes/{slug}{path}")
    status = page.locator(STATUS)
    assert status.get_attribute("role") == "status"
    assert status.inner_text() == ""
    # Seeking from a chapter asks the player to play, which fails.
    page.locator("ol.chapters [data-seek]").nth(1).click()
    page.wait_for_function(
        "selector => document.querySelector(selector).textContent.trim() !== ''", arg=STATUS
    )
    assert "could not be played" in status.inner_text()
    link = status.locator("a")
    assert link.get_attribute("href") == BROKEN
    assert status.is_visible()


def test_a_failed_play_from_the_player_controls_is_reported_too(live_server, page):
    slug = "care-between-visits"
    break_audio(slug)
    page.goto(f"{live_server}/episodes/{slug}")
    # What the player's own Play button starts with: loading the file.
    page.evaluate("document.querySelector('audio').load()")
    page.wait_for_function(
        "selector => document.querySelector(selector).textContent.trim() !== ''", arg=STATUS
    )
    assert "could not be played" in page.locator(STATUS).inner_text()


def test_the_sample_recording_loads_and_a_transcript_line_seeks_into_it(live_server, page):
    page.goto(f"{live_server}/episodes/respect-in-the-room/transcript?lang=en")
    page.evaluate("() => { const a = document.querySelector('audio'); a.preload = 'metadata'; a.load(); }")
    page.wait_for_function("() => document.querySelector('audio').duration > 0")
    duration = page.evaluate("() => document.querySelector('audio').duration")
    assert 317 < duration < 319
    line = page.locator(".segment .stamp").nth(5)
    start = float(line.get_attribute("data-seek"))
    line.click()
    page.wait_for_function(
        "start => document.querySelector('audio').currentTime >= start", arg=start
    )
    assert page.locator(STATUS).inner_text() == ""
    assert page.problems == []
