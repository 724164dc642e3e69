"""What a public page shows where it is shared: card tags, structured data and card images."""

import functools
import hashlib
import html
import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw, ImageFont

from coprod_study.urls import path_for

CARD_WIDTH, CARD_HEIGHT = 1200, 627
# Raised whenever the drawing below changes, so every kept image is drawn anew.
CARD_VERSION = "1"
DESCRIPTION_LIMIT = 200
TITLE_LIMIT = 120
IMAGE_FOLDER = "cards"
LINKEDIN_SHARE = "https://www.linkedin.com/sharing/share-offsite/"

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")

BACKGROUND = (23, 63, 95)
ACCENT = (242, 183, 5)
INK = (255, 255, 255)
MUTED = (200, 216, 230)


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


def _invisible(ch: str) -> bool:
    # Control, format and surrogate characters: nothing a font draws or a tag needs.
    return ch not in "\t\n" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


def linkedin_share_url(page_url: str) -> str:
    from urllib.parse import urlencode

    return f"{LINKEDIN_SHARE}?{urlencode({'url': page_url})}"


# --- Card images ------------------------------------------------------------------


def _folder() -> Path:
    folder = Path(current_app.instance_path) / IMAGE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _key(*shown) -> str:
    """A key that changes exactly when what the image shows (or how it is drawn) does."""
    payload = json.dumps([CARD_VERSION, _system_font(), *shown], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:20]


def _episode_lines(episode) -> tuple[str, str, str]:
    site = current_app.config["SITE_NAME"]
    return (f"Episode {episode.number} · {episode.dimension.name}", episode.title, site)


def episode_image_key(episode) -> str:
    return _key("episode", *_episode_lines(episode))


def site_image_key() -> str:
    return _key("site", current_app.config["SITE_NAME"])


def episode_image(episode) -> tuple[Path, str]:
    """The episode's card image on disk (drawn on first use), and its key.

    The key holds the title, number and dimension, so an edit to any of them
    names a new file; the files drawn for earlier versions are removed then.
    """
    key = episode_image_key(episode)
    return _kept(f"episode-{episode.id}", key, lambda: draw_card(*_episode_lines(episode))), key


def site_image() -> tuple[Path, str]:
    """The card image for pages that are not about one episode."""
    site = current_app.config["SITE_NAME"]
    key = site_image_key()
    tagline = "Study the podcast series on coproduction of health care, together."
    return _kept("site", key, lambda: draw_card("", site, tagline)), key


def _kept(prefix: str, key: str, draw) -> Path:
    folder = _folder()
    path = folder / f"{prefix}-{key}.png"
    if path.exists():
        return path
    data = draw()
    # Written aside and renamed: another process never reads half an image.
    partial = folder / f".{prefix}-{key}.{os.getpid()}.tmp"
    partial.write_bytes(data)
    os.replace(partial, path)
    for old in folder.glob(f"{prefix}-*.png"):
        if old != path:
            old.unlink(missing_ok=True)
    return path


# Pillow's own scalable face has no å, ä or ö, so a system font with them is used
# when the machine has one (nothing is copied into the app); else Pillow's, with
# accented letters drawn without their accents.
SYSTEM_FONTS = ("DejaVuSans.ttf", "LiberationSans-Regular.ttf")


@functools.cache
def _system_font() -> str | None:
    for name in SYSTEM_FONTS:
        try:
            ImageFont.truetype(name, 12)
        except OSError:
            continue
        return name
    return None


def _font(size: int):
    name = _system_font()
    return ImageFont.truetype(name, size) if name else ImageFont.load_default(size=size)


def _fold(text: str) -> str:
    if _system_font():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _clean(text: str) -> str:
    text = _fold("".join(" " if _invisible(ch) else ch for ch in text or ""))
    return _SPACE.sub(" ", text).strip()


def _wrap(draw, text: str, font, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap; a word wider than a line is broken; the last line ends in … when cut."""
    lines: list[str] = []
    current = ""
    words = text.split(" ") if text else []
    overflow = False
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        while draw.textlength(word, font=font) > width:
            cut = len(word)
            while cut > 1 and draw.textlength(word[:cut], font=font) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
        if len(lines) >= max_lines:
            overflow = True
            break
    if current and not overflow:
        lines.append(current)
    if len(lines) > max_lines:
        overflow = True
    lines = lines[:max_lines]
    if overflow and lines:
        last = lines[-1]
        while last and draw.textlength(last + " …", font=font) > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines


def draw_card(heading: str, title: str, footer: str) -> bytes:
    """A 1200×627 PNG: a heading line, the title in large type, a footer line."""
    image = Image.new("RGB", (CARD_WIDTH, CARD_HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    margin = 72
    width = CARD_WIDTH - 2 * margin
    draw.rectangle((0, 0, 24, CARD_HEIGHT), fill=ACCENT)
    small = _font(34)
    y = margin
    for line in _wrap(draw, _clean(heading)[:TITLE_LIMIT], small, width, 1):
        draw.text((margin, y), line, font=small, fill=ACCENT)
        y += 56
    title = _clean(title)
    # Large type for a short title; a long one steps down before it is cut.
    for size, max_lines in ((84, 3), (64, 4)):
        big = _font(size)
        lines = _wrap(draw, title, big, width, max_lines)
        if len(lines) < max_lines or size == 64:
            break
    for line in lines:
        draw.text((margin, y), line, font=big, fill=INK)
        y += int(size * 1.2)
    for line in _wrap(draw, _clean(footer), small, width, 1):
        draw.text((margin, CARD_HEIGHT - margin - 40), line, font=small, fill=MUTED)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


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
