"""Transcripts: parsing and refusing files, the transcript page, moments quoted in posts."""

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from coprod_study.catalog import transcript as transcripts
from coprod_study.discussion import service as discussion
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.models import Answer, Transcript, TranscriptSegment
from tests import factories as f
from tests.conftest import login, post_form

GOOD_VTT = b"""WEBVTT

intro
00:00:01.000 --> 00:00:04.000
<v Robin Hale>Welcome, this is sample content.

00:12:34.000 --> 00:12:40.500
<v Guest One>What mattered to me was being asked.

01:02:03.000 --> 01:02:09.000
A line with no speaker.
"""

GOOD_SRT = b"""1
00:00:01,000 --> 00:00:02,500
Hello from SubRip.

2
00:00:03,000 --> 00:00:04,000
Second line.
"""


def episode_one():
    from coprod_study.models import Episode

    return db.session.scalar(select(Episode).where(Episode.slug == "respect-in-the-room"))


def test_webvtt_is_parsed_with_speakers(sample_catalog):
    episode = episode_one()
    transcript = transcripts.store_transcript(episode, "de", "ep.vtt", GOOD_VTT)
    segments = transcript.segments
    assert [s.start_ms for s in segments] == [1000, 754000, 3723000]
    assert [s.speaker for s in segments] == ["Robin Hale", "Guest One", None]
    assert segments[1].text == "What mattered to me was being asked."
    assert transcripts.format_time(segments[2].start_ms) == "1:02:03"


def test_subrip_is_converted_to_webvtt(sample_catalog):
    transcript = transcripts.store_transcript(episode_one(), "fr", "ep.srt", GOOD_SRT)
    assert transcript.vtt.startswith("WEBVTT")
    assert "00:00:01.000 --> 00:00:02.500" in transcript.vtt
    assert len(transcript.segments) == 2


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"WEBVTT\n\n00:00:01.000 --> xx\nhello\n", "a.vtt", "Line 3: This timing line is not valid"),
        (b"WEBVTT\n\n00:00:05.000 --> 00:00:01.000\nbackwards\n", "a.vtt", "Line 3: The cue ends before it starts"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n", "a.vtt", "Line 3: The cue has no text"),
        (b"WEBVTT\n\n00:00:09.000 --> 00:00:10.000\nb\n\n00:00:01.000 --> 00:00:02.000\na\n", "a.vtt", "Line 6: Cues must be in time order"),
        (b"hello\n", "a.vtt", "Line 1: A WebVTT file must start"),
        (b"1\n00:00:01.000 -> 00:00:02.000\nx\n", "a.srt", "Line 1: Expected a timing line"),
        (b"WEBVTT\n\n00:00:01.000 --> 00:00:02.000\n\xff\xfe bad\n", "a.vtt", "Line 4: The file is not UTF-8"),
        (b"WEBVTT\n", "a.vtt", "no cues"),
        (b"plain words", "notes.txt", "Upload a WebVTT"),
    ],
)
def test_bad_files_are_refused_with_the_line_and_nothing_is_stored(sample_catalog, content, name, message):
    before = db.session.scalar(select(func.count()).select_from(Transcript))
    with pytest.raises(DomainError) as error:
        transcripts.store_transcript(episode_one(), "de", name, content)
    assert message in error.value.message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Transcript)) == before


def test_too_large_file_is_refused(sample_catalog):
    with pytest.raises(DomainError, match="larger than 5 MB"):
        transcripts.store_transcript(episode_one(), "de", "big.vtt", b"WEBVTT\n" + b"x" * (5 * 1024 * 1024))


def test_replacing_keeps_one_transcript_per_language(sample_catalog):
    episode = episode_one()
    transcripts.store_transcript(episode, "de", "a.vtt", GOOD_VTT)
    transcripts.store_transcript(episode, "de", "b.srt", GOOD_SRT)
    rows = db.session.scalars(select(Transcript).where(Transcript.language == "de")).all()
    assert len(rows) == 1 and len(rows[0].segments) == 2


def test_sample_episode_has_english_and_swedish_transcripts(client, sample_catalog):
    assert transcripts.languages(episode_one()) == ["en", "sv"]
    page = client.get("/episodes/respect-in-the-room/transcript?lang=sv").get_data(as_text=True)
    assert 'lang="sv"' in page and 'id="t=0"' in page
    # The share card's description may name the real host as a fact (the summary does);
    # the transcript itself is spoken by invented people only.
    body = page.split("<main", 1)[1]
    assert "Robin Hale" in body and "Paul Batalden" not in body
    english = client.get("/episodes/respect-in-the-room/transcript?lang=en").get_data(as_text=True)
    assert english != page
    vtt = client.get("/episodes/respect-in-the-room/transcript.vtt?lang=sv")
    assert vtt.mimetype == "text/vtt" and vtt.get_data(as_text=True).startswith("WEBVTT")
    assert client.get("/episodes/respect-in-the-room/transcript.vtt?lang=xx").status_code == 404


def test_transcript_page_works_without_javascript_and_has_anchors(client, sample_catalog):
    episode = episode_one()
    transcripts.store_transcript(episode, "de", "a.vtt", GOOD_VTT)
    page = client.get("/episodes/respect-in-the-room/transcript?lang=de").get_data(as_text=True)
    assert 'id="t=754"' in page and 'href="#t=754"' in page and "12:34" in page
    assert "1:02:03" in page
    assert "<script>" not in page  # only the external, deferred enhancement


def test_chapters_show_on_the_episode_page(client, sample_catalog):
    page = client.get("/episodes/respect-in-the-room").get_data(as_text=True)
    assert 'class="chapters"' in page and "#t=39" in page


def test_answer_quotes_a_moment_and_the_group_lists_it(client, sample_catalog):
    group = f.make_group(name="Moments")
    ann = f.add_member(group, f.make_user(name="Ann"))
    episode = episode_one()
    segment = db.session.scalar(
        select(TranscriptSegment).join(Transcript).where(
            Transcript.episode_id == episode.id, Transcript.language == "en"
        ).order_by(TranscriptSegment.start_ms).offset(3)
    )
    login(client, ann)
    moment_page = client.get(f"/episodes/{episode.slug}/moments/{segment.id}").get_data(as_text=True)
    assert escape(segment.text) in moment_page and "Moments" in moment_page
    url = f"/groups/{group.slug}/episodes/{episode.slug}/questions/1"
    form_page = client.get(f"{url}?moment={segment.id}").get_data(as_text=True)
    assert "Your answer will quote this moment" in form_page
    response = post_form(client, url, {"body": "This moment!", "moment": segment.id, "action": "post"})
    assert response.status_code == 302
    answer = db.session.scalar(select(Answer))
    assert answer.segment_id == segment.id
    page = client.get(url).get_data(as_text=True)
    assert escape(segment.text) in page and f"#t={segment.start_ms // 1000}" in page
    overview = client.get(f"/groups/{group.slug}/episodes/{episode.slug}").get_data(as_text=True)
    assert "What our group talked about" in overview and "(1 post)" in overview


def test_a_moment_from_another_episode_is_refused(client, sample_catalog):
    group = f.make_group(name="Wrong")
    ann = f.add_member(group, f.make_user())
    segment = db.session.scalar(select(TranscriptSegment).order_by(TranscriptSegment.id))
    from coprod_study.models import Episode

    other = db.session.scalar(select(Episode).where(Episode.slug != "respect-in-the-room"))
    login(client, ann)
    response = post_form(
        client,
        f"/groups/{group.slug}/episodes/{other.slug}/questions/1",
        {"body": "Sneaky quote", "moment": segment.id, "action": "post"},
    )
    assert response.status_code == 400
    assert "not in this episode" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Answer)) == 0


def test_thread_reply_quotes_a_moment(client, sample_catalog):
    facilitator = f.make_user()
    group = f.make_group(facilitator, name="Thread moments")
    episode = episode_one()
    thread = discussion.create_thread(facilitator, group, title="Ep 1", body="Go", episode=episode)
    segment = db.session.scalar(select(TranscriptSegment).order_by(TranscriptSegment.id))
    post = discussion.reply(facilitator, thread, "quoting", segment_id=segment.id)
    assert post.segment_id == segment.id
    login(client, facilitator)
    page = client.get(f"/groups/{group.slug}/threads/{thread.id}").get_data(as_text=True)
    assert escape(segment.text) in page
    plain = discussion.create_thread(facilitator, group, title="No episode", body="Go")
    with pytest.raises(DomainError, match="not about an episode"):
        discussion.reply(facilitator, plain, "quoting", segment_id=segment.id)


def _statements(client, count_queries, path, **headers):
    client.get(path, headers=headers)
    with count_queries() as sent:
        page = client.get(path, headers=headers).get_data(as_text=True)
    return len([q for q in sent if q.split()[0].upper() != "BEGIN"]), page


def test_transcript_and_moment_pages_run_few_queries(client, sample_catalog, count_queries):
    """A transcript page in either language, and a moment page whatever the number of
    the reader's groups (each with its own questions), in at most 8 statements."""
    episode = episode_one()
    # The first English line with an apostrophe, which the page writes as &#39;.
    segment = db.session.scalar(
        select(TranscriptSegment).join(Transcript)
        .where(Transcript.episode_id == episode.id, Transcript.language == "en",
               TranscriptSegment.text.contains("'"))
        .order_by(TranscriptSegment.start_ms)
    )
    ann = f.make_user(name="Ann")
    first = f.make_group(name="Moments 0")
    f.add_member(first, ann)
    login(client, ann)
    transcript = f"/episodes/{episode.slug}/transcript"
    moment = f"/episodes/{episode.slug}/moments/{segment.id}"
    english, english_page = _statements(client, count_queries, transcript + "?lang=en")
    swedish, swedish_page = _statements(client, count_queries, transcript + "?lang=sv",
                                        **{"Accept-Language": "sv"})
    assert english <= 8 and swedish <= 8
    assert escape(segment.text) in english_page and 'lang="sv"' in swedish_page
    one_group, _page = _statements(client, count_queries, moment)
    from coprod_study.groups import service as group_service

    for number in range(1, 6):
        facilitator = f.make_user()
        group = f.make_group(facilitator, name=f"Moments {number}")
        f.add_member(group, ann)
        group_service.add_extra_question(facilitator, group, episode, f"Our own question {number}")
    six_groups, moment_page = _statements(client, count_queries, moment)
    assert six_groups == one_group <= 8
    assert "Moments 5" in moment_page and "Our own question 5" in moment_page


# --- One message per state: no transcript, another language only, the language asked for ---

NO_TRANSCRIPT = "There is no transcript for this episode yet."
OTHER_LANGUAGE = "There is no transcript in that language yet; showing another one."
DISCUSS_HINT = "choose “Discuss” next to a line"


def without_transcripts(slug="what-each-of-us-knows"):
    from coprod_study.models import Episode

    episode = db.session.scalar(select(Episode).where(Episode.slug == slug))
    for language in transcripts.languages(episode):
        transcripts.delete_transcript(episode, language)
    return episode


def test_transcript_page_of_an_episode_without_one_says_only_that(client, sample_catalog):
    episode = without_transcripts()
    for query in ("", "?lang=de", "?lang=en"):
        page = client.get(f"/episodes/{episode.slug}/transcript{query}").get_data(as_text=True)
        assert page.count(NO_TRANSCRIPT) == 1, query
        assert OTHER_LANGUAGE not in page and "showing another one" not in page, query
        assert "Download WebVTT" not in page and 'class="transcript"' not in page


def test_transcript_page_in_a_missing_language_says_it_shows_another(client, sample_catalog):
    page = client.get("/episodes/respect-in-the-room/transcript?lang=de").get_data(as_text=True)
    assert page.count(OTHER_LANGUAGE) == 1
    assert NO_TRANSCRIPT not in page
    assert 'class="transcript" lang="en"' in page and "Robin Hale" in page


def test_transcript_page_in_the_language_asked_for_has_no_notice(client, sample_catalog):
    for language in ("en", "sv"):
        page = client.get(f"/episodes/respect-in-the-room/transcript?lang={language}").get_data(as_text=True)
        assert OTHER_LANGUAGE not in page and NO_TRANSCRIPT not in page
        assert f'class="transcript" lang="{language}"' in page


def test_episode_page_names_only_what_the_episode_has(client, sample_catalog):
    both = client.get("/episodes/respect-in-the-room").get_data(as_text=True)
    assert ">Chapters and transcript</h2>" in both
    episode = without_transcripts()
    chapters_only = client.get(f"/episodes/{episode.slug}").get_data(as_text=True)
    assert ">Chapters</h2>" in chapters_only
    assert "transcript</h2>" not in chapters_only.lower() and "Transcript:" not in chapters_only
    transcripts.store_transcript(episode, "en", "t.vtt", GOOD_VTT)
    from coprod_study.models import Chapter

    db.session.execute(Chapter.__table__.delete().where(Chapter.episode_id == episode.id))
    db.session.commit()
    transcript_only = client.get(f"/episodes/{episode.slug}").get_data(as_text=True)
    assert ">Transcript</h2>" in transcript_only and "Chapters" not in transcript_only
    transcripts.delete_transcript(episode, "en")
    neither = client.get(f"/episodes/{episode.slug}").get_data(as_text=True)
    assert 'id="contents"' not in neither


def test_group_episode_page_hints_at_discussing_a_line_only_with_a_transcript(client, sample_catalog):
    group = f.make_group(name="Hints")
    login(client, f.add_member(group, f.make_user()))
    with_one = client.get(f"/groups/{group.slug}/episodes/respect-in-the-room").get_data(as_text=True)
    assert "No one has quoted a moment of this episode yet." in with_one
    assert DISCUSS_HINT in with_one
    episode = without_transcripts()
    without = client.get(f"/groups/{group.slug}/episodes/{episode.slug}").get_data(as_text=True)
    assert "No one has quoted a moment of this episode yet." not in without
    assert DISCUSS_HINT not in without and "/transcript" not in without
    assert "This episode has no transcript yet, so there are no moments to quote." in without
