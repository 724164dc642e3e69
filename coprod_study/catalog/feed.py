"""The catalog as a podcast feed (/feed.xml) and each episode's JSON chapters."""

import re
import xml.etree.ElementTree as ET  # noqa: S405 (only writes XML here)
from collections import defaultdict
from datetime import UTC, datetime, time
from email.utils import format_datetime

from flask import Response, abort, current_app, jsonify, url_for
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.catalog import bp
from coprod_study.extensions import db
from coprod_study.models import Chapter, Episode, EpisodeGuest, Transcript
from coprod_study.urls import path_for

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
ATOM = "http://www.w3.org/2005/Atom"
# No podcast:socialInteract: every protocol the namespace registers (activitypub,
# twitter, bluesky, nostr, ...) names a social network, and "disabled" means "no
# comments"; the discussion here is a web page, which none of them describes. The
# item's plain <link> takes podcast apps to that page instead.
CHAPTERS_TYPE = "application/json+chapters"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ET.register_namespace(_prefix, _uri)


def _absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _text(value) -> str:
    # XML 1.0 cannot carry control characters at all, escaped or not.
    return _NOT_XML.sub("", str(value))


def _add(parent, tag: str, text=None, **attributes):
    element = ET.SubElement(
        parent, tag, {name: _text(value) for name, value in attributes.items() if value is not None}
    )
    if text is not None:
        element.text = _text(text)
    return element


def transcript_url(slug: str, language: str) -> str:
    # The transcript routes belong to the transcript pages; fall back to their
    # documented path when the endpoint is not registered.
    if "catalog.transcript_vtt" in current_app.view_functions:
        return _absolute(url_for("catalog.transcript_vtt", slug=slug, lang=language))
    return _absolute(f"/episodes/{slug}/transcript.vtt?lang={language}")


def build_feed() -> bytes:
    """RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, newest episode first."""
    episodes = db.session.scalars(
        select(Episode)
        .options(selectinload(Episode.guests).selectinload(EpisodeGuest.person))
        .order_by(Episode.published_on.desc().nulls_last(), Episode.number.desc())
    ).all()
    languages: dict[int, list[str]] = defaultdict(list)
    for episode_id, language in db.session.execute(
        select(Transcript.episode_id, Transcript.language).order_by(Transcript.language)
    ):
        languages[episode_id].append(language)
    with_chapters = set(db.session.scalars(select(Chapter.episode_id).distinct()))

    site_name = current_app.config["SITE_NAME"]
    rss = ET.Element("rss", {"version": "2.0"})
    channel = _add(rss, "channel")
    _add(channel, "title", site_name)
    _add(channel, "link", _absolute(path_for("catalog.episodes")))
    _add(
        channel,
        "description",
        f"Episodes from {site_name}, each with its transcripts, chapters and a page "
        "where listeners discuss it.",
    )
    _add(channel, "language", "en")
    _add(channel, "generator", "coprod-study")
    _add(
        channel,
        f"{{{ATOM}}}link",
        href=_absolute(path_for("catalog.podcast_feed")),
        rel="self",
        type="application/rss+xml",
    )
    _add(channel, f"{{{ITUNES}}}explicit", "false")
    _add(channel, f"{{{ITUNES}}}type", "episodic")

    for episode in episodes:
        page = _absolute(path_for("catalog.episode", slug=episode.slug))
        item = _add(channel, "item")
        _add(item, "title", episode.title)
        _add(item, "link", page)
        if episode.guid:
            _add(item, "guid", episode.guid, isPermaLink="false")
        else:
            _add(item, "guid", page, isPermaLink="true")
        # A description is HTML to podcast apps; a title is text, so it goes in escaped.
        _add(item, "description", episode.summary_html or str(escape(episode.title)))
        if episode.published_on:
            stamp = datetime.combine(episode.published_on, time(0), tzinfo=UTC)
            _add(item, "pubDate", format_datetime(stamp))
        if episode.audio_url:
            # The file's size is not known here; 0 is the customary "unknown".
            # A path on this site (the packaged sample audio) is made absolute:
            # podcast apps fetch the enclosure from elsewhere.
            audio = episode.audio_url
            if audio.startswith("/"):
                audio = _absolute(audio)
            _add(item, "enclosure", url=audio, length="0", type="audio/mpeg")
        if episode.duration_seconds is not None:
            _add(item, f"{{{ITUNES}}}duration", str(episode.duration_seconds))
        _add(item, f"{{{ITUNES}}}episode", str(episode.number))
        _add(item, f"{{{ITUNES}}}episodeType", "full")
        if episode.host_name:
            _add(item, f"{{{PODCAST}}}person", episode.host_name, role="host")
        for guest in episode.guests:
            _add(item, f"{{{PODCAST}}}person", guest.person.name, role="guest")
        for language in languages.get(episode.id, []):
            _add(
                item,
                f"{{{PODCAST}}}transcript",
                url=transcript_url(episode.slug, language),
                type="text/vtt",
                language=language,
                rel="captions",
            )
        if episode.id in with_chapters:
            _add(
                item,
                f"{{{PODCAST}}}chapters",
                url=_absolute(path_for("catalog.episode_chapters", slug=episode.slug)),
                type=CHAPTERS_TYPE,
            )
    ET.indent(rss)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)


@bp.route("/feed.xml")
def podcast_feed():
    response = Response(build_feed(), mimetype="application/rss+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/episodes/<slug>/chapters.json")
def episode_chapters(slug: str):
    """The episode's chapters in the Podcasting 2.0 JSON chapters format.

    :raise 404: when no episode has this slug.
    """
    episode = db.session.scalar(select(Episode).where(Episode.slug == slug))
    if episode is None:
        abort(404)
    chapters = db.session.scalars(
        select(Chapter).where(Chapter.episode_id == episode.id).order_by(Chapter.position)
    ).all()
    response = jsonify(
        {
            "version": "1.2.0",
            "title": episode.title,
            "podcastName": current_app.config["SITE_NAME"],
            "chapters": [
                {"startTime": chapter.start_seconds, "title": chapter.title}
                for chapter in chapters
            ],
        }
    )
    response.mimetype = CHAPTERS_TYPE
    return response
