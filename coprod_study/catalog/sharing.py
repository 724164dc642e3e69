"""What a public page shows where it is shared: card tags, structured data, sitemap and robots.txt."""

import html
import re
from dataclasses import dataclass, field

from flask import current_app

from coprod_study.catalog.card_images import (
    _SPACE,
    TITLE_LIMIT,
    _invisible,
    episode_image_key,
    site_image_key,
)
from coprod_study.urls import path_for

DESCRIPTION_LIMIT = 200


LINKEDIN_SHARE = "https://www.linkedin.com/sharing/share-offsite/"


_TAG = re.compile(r"<[^>]*>")


@dataclass
class Card:
    """The tags a shared link unfolds into: OpenGraph, Twitter, JSON-LD, alternates."""

    title: str
    description: str
    url: str
    type: str
    image: str
    image_alt: str
    structured: list[dict] = field(default_factory=list)
    alternates: list[tuple[str, str]] = field(default_factory=list)


def absolute(path: str) -> str:
    return current_app.config["BASE_URL"].rstrip("/") + path


def _page_url(endpoint: str, **values) -> tuple[str, list[tuple[str, str]]]:
    """The page's own address (with ?hl= when the reader asked for a language
    version) and its hreflang alternates: one per interface language, and the
    address without ?hl= as x-default (it follows the reader's settings)."""
    from flask import has_request_context, request

    from coprod_study.i18n import LANGUAGE_PARAM, SUPPORTED

    default = absolute(path_for(endpoint, **values))
    alternates = [
        (language, absolute(path_for(endpoint, **values, **{LANGUAGE_PARAM: language})))
        for language in SUPPORTED
    ]
    alternates.append(("x-default", default))
    named = request.args.get(LANGUAGE_PARAM) if has_request_context() else None
    if named in SUPPORTED:
        return dict(alternates)[named], alternates
    return default, alternates


def plain_text(text: str | None, limit: int = DESCRIPTION_LIMIT) -> str:
    """`text` as one line, invisible characters dropped, cut at a word to `limit`."""
    flat = "".join(ch for ch in text or "" if not _invisible(ch))
    flat = _SPACE.sub(" ", flat).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,.;:") + "…"


def html_text(markup: str | None, limit: int = DESCRIPTION_LIMIT) -> str:
    """Rendered (sanitized) HTML as plain text for a description, cut to `limit`."""
    return plain_text(html.unescape(_TAG.sub(" ", markup or "")), limit)


def linkedin_share_url(page_url: str) -> str:
    from urllib.parse import urlencode

    return f"{LINKEDIN_SHARE}?{urlencode({'url': page_url})}"


# --- Cards per page ---------------------------------------------------------------


def _site_image_url() -> str:
    return absolute(path_for("catalog.site_card", v=site_image_key()))


def _episode_image_url(episode) -> str:
    return absolute(
        path_for("catalog.episode_card", slug=episode.slug, v=episode_image_key(episode))
    )


def site_card(title: str, description: str, endpoint: str, **values) -> Card:
    site = current_app.config["SITE_NAME"]
    url, alternates = _page_url(endpoint, **values)
    return Card(
        title=plain_text(title, TITLE_LIMIT),
        description=plain_text(description),
        url=url,
        type="website",
        image=_site_image_url(),
        image_alt=site,
        structured=[series_data()],
        alternates=alternates,
    )


def series_data() -> dict:
    site = current_app.config["SITE_NAME"]
    return {
        "@context": "https://schema.org",
        "@type": "PodcastSeries",
        "name": site,
        "url": absolute(path_for("catalog.index")),
        "webFeed": absolute(path_for("catalog.podcast_feed")),
        "inLanguage": "en",
    }


def episode_data(episode, page_url: str) -> dict:
    data = {
        "@context": "https://schema.org",
        "@type": "PodcastEpisode",
        "name": plain_text(episode.title, 500),
        "episodeNumber": episode.number,
        "url": page_url,
        "description": html_text(episode.summary_html),
        "image": _episode_image_url(episode),
        "about": episode.dimension.name,
        "partOfSeries": {
            "@type": "PodcastSeries",
            "name": current_app.config["SITE_NAME"],
            "url": absolute(path_for("catalog.index")),
        },
    }
    if episode.published_on:
        data["datePublished"] = episode.published_on.isoformat()
    if episode.duration_seconds:
        data["timeRequired"] = f"PT{episode.duration_seconds}S"
    if episode.audio_url:
        data["associatedMedia"] = {"@type": "MediaObject", "contentUrl": episode.audio_url}
    return data


def episode_card(episode, endpoint: str = "catalog.episode", **values) -> Card:
    url, alternates = _page_url(endpoint, slug=episode.slug, **values)
    title = plain_text(episode.title, TITLE_LIMIT)
    return Card(
        title=title,
        description=html_text(episode.summary_html) or title,
        url=url,
        type="article",
        image=_episode_image_url(episode),
        image_alt=plain_text(episode.title, TITLE_LIMIT),
        structured=[episode_data(episode, absolute(path_for("catalog.episode", slug=episode.slug)))],
        alternates=alternates,
    )


def transcript_card(episode, language: str | None) -> Card:
    from flask_babel import gettext

    values = {"lang": language} if language else {}
    card = episode_card(episode, "catalog.transcript", **values)
    card.title = plain_text(gettext("Transcript: %(title)s", title=episode.title), TITLE_LIMIT)
    return card


def group_card(group) -> Card | None:
    """A card for a group's public page, or None when the group is not listed publicly."""
    from flask_babel import gettext

    from coprod_study import policy

    if not policy.is_listed_publicly(group):
        return None
    description = html_text(group.description_html) or gettext(
        "A study group on %(site)s.", site=current_app.config["SITE_NAME"]
    )
    return site_card(group.name, description, "groups.show", slug=group.slug)


# --- Discovery --------------------------------------------------------------------


def sitemap_entries() -> list[tuple[str, list[tuple[str, str]]]]:
    """Every public page's address with its language alternates, and nothing else:
    the catalog, the transcripts, and the pages of groups listed publicly."""
    from sqlalchemy import select

    from coprod_study import policy
    from coprod_study.extensions import db
    from coprod_study.models import Episode, StudyGroup, Transcript

    pages = [("catalog.index", {}), ("catalog.episodes", {}), ("catalog.dimensions", {}),
             ("groups.index", {}), ("inquiries.contact", {})]
    for slug in db.session.scalars(select(Episode.slug).order_by(Episode.number)):
        pages.append(("catalog.episode", {"slug": slug}))
    for slug, language in db.session.execute(
        select(Episode.slug, Transcript.language)
        .join(Transcript, Transcript.episode_id == Episode.id)
        .order_by(Episode.number, Transcript.language)
    ):
        pages.append(("catalog.transcript", {"slug": slug, "lang": language}))
    for group in db.session.scalars(select(StudyGroup).order_by(StudyGroup.slug)):
        if policy.is_listed_publicly(group):
            pages.append(("groups.show", {"slug": group.slug}))
    entries = []
    for endpoint, values in pages:
        default = absolute(path_for(endpoint, **values))
        entries.append((default, _page_url(endpoint, **values)[1]))
    return entries


# Areas that are only ever someone's own or a group's members' (they answer a
# sign-in page or 403 to a crawler anyway); no single private address is named.
ROBOTS_DISALLOWED = ("/account", "/admin", "/api/", "/auth/", "/courses", "/notifications",
                     "/search", "/groups/join/")


def robots_txt() -> str:
    lines = ["User-agent: *"]
    lines += [f"Disallow: {prefix}" for prefix in ROBOTS_DISALLOWED]
    lines += ["Allow: /", "", f"Sitemap: {absolute(path_for('catalog.sitemap'))}", ""]
    return "\n".join(lines)
