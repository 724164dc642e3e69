"""The card images a shared page shows: drawn once per text shown, kept in instance/cards."""

import functools
import hashlib
import io
import json
import os
import re
import unicodedata
from pathlib import Path

from flask import current_app
from PIL import Image, ImageDraw, ImageFont

CARD_WIDTH, CARD_HEIGHT = 1200, 627


# Raised whenever the drawing below changes, so every kept image is drawn anew.
CARD_VERSION = "1"


TITLE_LIMIT = 120


IMAGE_FOLDER = "cards"


_SPACE = re.compile(r"\s+")


BACKGROUND = (23, 63, 95)


ACCENT = (242, 183, 5)


INK = (255, 255, 255)


MUTED = (200, 216, 230)


def _invisible(ch: str) -> bool:
    # Control, format and surrogate characters: nothing a font draws or a tag needs.
    return ch not in "\t\n" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn")


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
