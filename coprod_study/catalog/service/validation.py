"""The catalog file: read and validate it as a whole, naming every problem."""

import re
import tomllib
from datetime import date
from pathlib import Path

from coprod_study.errors import DomainError
from coprod_study.models import (
    AUDIENCES,
    TAKEAWAY_KINDS,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")


# "/static/audio/x.mp3", never "//host/..." (another site) or "/a b" (not one path).
SITE_PATH_RE = re.compile(r"^/(?!/)\S*$")


DURATION_RE = re.compile(r"^(?:(\d+):)?([0-5]?\d):([0-5]\d)$")


MAX_TEXT = 20_000


class CatalogError(DomainError):
    """A catalog file that cannot be loaded; `problems` names each one."""

    def __init__(self, problems: list[str]):
        super().__init__("The catalog file has problems:\n" + "\n".join(problems))
        self.problems = problems


def parse_duration(value) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str):
        match = DURATION_RE.match(value.strip())
        if match:
            hours, minutes, seconds = match.groups()
            return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    raise ValueError("duration must be mm:ss, h:mm:ss or whole seconds")


def format_duration(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Checker:
    """Collects every problem in a file so the editor can fix them in one go."""

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, where, data, key, *, required=True, max_length=MAX_TEXT) -> str | None:
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problem(where, f"empty {key}")
            return None
        if not isinstance(value, str):
            self.problem(where, f"{key} must be text")
            return None
        if len(value) > max_length:
            self.problem(where, f"{key} is longer than {max_length} characters")
            return None
        return value.strip()

    def url(self, where, data, key) -> str | None:
        value = self.text(where, data, key, required=False, max_length=500)
        if value and not re.match(r"^https?://[^\s/]+\S*$", value):
            self.problem(where, f"{key} must be an http(s) URL")
            return None
        return value

    def audio_url(self, where, data, key) -> str | None:
        """An http(s) URL, or a path on this site (the packaged sample audio)."""
        value = self.text(where, data, key, required=False, max_length=500)
        if value and not (re.match(r"^https?://[^\s/]+\S*$", value) or SITE_PATH_RE.match(value)):
            self.problem(where, f"{key} must be an http(s) URL or a path on this site")
            return None
        return value


def validate(document: dict, base_dir: Path | None = None) -> dict:
    """Check the whole document; return cleaned data or raise CatalogError."""
    check = _Checker()
    if not isinstance(document, dict):
        raise CatalogError(["the file must be a table of dimensions and episodes"])
    raw_dimensions = document.get("dimensions", [])
    raw_episodes = document.get("episodes", [])
    if not isinstance(raw_dimensions, list) or not isinstance(raw_episodes, list):
        raise CatalogError(["dimensions and episodes must be lists ([[dimensions]], [[episodes]])"])
    if not raw_episodes:
        check.problem("catalog", "no episodes")

    dimensions = []
    dimension_slugs: set[str] = set()
    for index, raw in enumerate(raw_dimensions, start=1):
        slug = raw.get("slug") if isinstance(raw, dict) else None
        where = f'dimension "{slug}"' if isinstance(slug, str) else f"dimension {index}"
        if not isinstance(raw, dict):
            check.problem(where, "must be a table")
            continue
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            check.problem(where, "slug must be lowercase letters, digits and hyphens")
        elif slug in dimension_slugs:
            check.problem(where, "slug used twice")
        dimension_slugs.add(slug)
        related = raw.get("related", [])
        if not isinstance(related, list) or not all(isinstance(r, str) for r in related):
            check.problem(where, "related must be a list of dimension slugs")
            related = []
        dimensions.append(
            {
                "slug": slug,
                "name": check.text(where, raw, "name", max_length=120),
                "description": check.text(where, raw, "description", required=False) or "",
                "related": related,
                "position": index,
            }
        )
    for item in dimensions:
        for other in item["related"]:
            if other not in dimension_slugs:
                check.problem(f'dimension "{item["slug"]}"', f'related dimension "{other}" is not defined')
            elif other == item["slug"]:
                check.problem(f'dimension "{item["slug"]}"', "a dimension cannot relate to itself")

    episodes = []
    episode_slugs: set[str] = set()
    numbers: set[int] = set()
    guest_bios: dict[str, tuple[str, str]] = {}
    for index, raw in enumerate(raw_episodes, start=1):
        slug = raw.get("slug") if isinstance(raw, dict) else None
        where = f'episode "{slug}"' if isinstance(slug, str) and slug else f"episode {index}"
        if not isinstance(raw, dict):
            check.problem(where, "must be a table")
            continue
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            check.problem(where, "slug must be lowercase letters, digits and hyphens")
        elif slug in episode_slugs:
            check.problem(where, "slug used twice")
        episode_slugs.add(slug)
        number = raw.get("number")
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            check.problem(where, "number must be a positive whole number")
        elif number in numbers:
            check.problem(where, f"number {number} used twice")
        else:
            numbers.add(number)
        dimension = raw.get("dimension")
        if dimension not in dimension_slugs:
            check.problem(where, f'dimension "{dimension}" is not defined')
        related = raw.get("related_dimensions", [])
        if not isinstance(related, list) or any(r not in dimension_slugs for r in related):
            check.problem(where, "related_dimensions must list defined dimension slugs")
            related = []
        published = raw.get("published")
        if published is not None and not isinstance(published, date):
            check.problem(where, "published must be a date such as 2024-03-05")
            published = None
        duration = None
        if raw.get("duration") is not None:
            try:
                duration = parse_duration(raw["duration"])
            except ValueError as error:
                check.problem(where, str(error))
        episode = {
            "slug": slug,
            "number": number,
            "title": check.text(where, raw, "title", max_length=200),
            "dimension": dimension,
            "related_dimensions": [r for r in related if r != dimension],
            "published_on": published,
            "audio_url": check.audio_url(where, raw, "audio_url"),
            "duration_seconds": duration,
            "host_name": check.text(where, raw, "host", required=False, max_length=120),
            "summary": check.text(where, raw, "summary", required=False) or "",
            "is_sample": bool(raw.get("sample", document.get("catalog", {}).get("sample", False))),
            "guests": [],
            "takeaways": [],
            "questions": [],
            "references": [],
        }
        for kind in ("guests", "takeaways", "questions", "references"):
            items = raw.get(kind, [])
            if not isinstance(items, list):
                check.problem(where, f"{kind} must be a list")
                items = []
            for position, item in enumerate(items, start=1):
                label = f"{where}: {kind[:-1]} {position}"
                if not isinstance(item, dict):
                    check.problem(label, "must be a table")
                    continue
                episode[kind].append(_validate_item(check, kind, label, item, position))
        episode.update(_validate_extras(check, where, raw, episode, base_dir))
        if not episode["questions"] and "questions" in raw:
            check.problem(where, "questions is empty")
        _check_guests(check, where, episode["guests"], guest_bios)
        episodes.append(episode)

    if check.problems:
        raise CatalogError(check.problems)
    # A guest is one person: an episode that leaves the bio out uses the one
    # given elsewhere (otherwise each load would flip the bio back and forth).
    for episode in episodes:
        for guest in episode["guests"]:
            if not guest["bio"] and guest["name"] in guest_bios:
                guest["bio"] = guest_bios[guest["name"]][0]
    return {"dimensions": dimensions, "episodes": episodes}


def _check_guests(check: _Checker, where: str, guests: list[dict], bios: dict) -> None:
    """One person once per episode, and with one bio across the whole file."""
    names: set[str] = set()
    for position, guest in enumerate(guests, start=1):
        name = guest["name"]
        if name is None:
            continue
        label = f"{where}: guest {position}"
        if name in names:
            check.problem(label, f'"{name}" is listed twice')
        names.add(name)
        if guest["bio"]:
            bio, first_seen = bios.setdefault(name, (guest["bio"], where))
            if bio != guest["bio"]:
                check.problem(label, f'"{name}" has a different bio in {first_seen}')


def _validate_item(check: _Checker, kind: str, label: str, item: dict, position: int) -> dict:
    if kind == "guests":
        return {
            "name": check.text(label, item, "name", max_length=120),
            "bio": check.text(label, item, "bio", required=False, max_length=2000) or "",
        }
    if kind == "takeaways":
        item_kind = item.get("kind")
        if item_kind not in TAKEAWAY_KINDS:
            check.problem(label, f"kind must be one of {', '.join(TAKEAWAY_KINDS)}")
        return {"position": position, "kind": item_kind, "text": check.text(label, item, "text")}
    if kind == "questions":
        audiences = item.get("audiences", [])
        if not isinstance(audiences, list) or any(a not in AUDIENCES for a in audiences):
            check.problem(label, f"audiences must be chosen from {', '.join(AUDIENCES)}")
            audiences = []
        return {
            "position": position,
            "prompt": check.text(label, item, "prompt"),
            "audiences": list(dict.fromkeys(audiences)),
        }
    doi = check.text(label, item, "doi", required=False, max_length=200)
    if doi and not DOI_RE.match(doi):
        check.problem(label, "doi must look like 10.1234/abc")
    return {
        "position": position,
        "citation": check.text(label, item, "citation"),
        "url": check.url(label, item, "url"),
        "doi": doi,
    }


def read_file(path: str | Path) -> dict:
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError as error:
        raise CatalogError([f"{path}: no such file"]) from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError([f"{path}: not valid TOML ({error})"]) from error
    return validate(document, Path(path).parent)


# --- Chapters, transcripts and translations -------------------------------------

TRANSLATABLE_LANGUAGES = ("sv", "en")


def _validate_extras(check: _Checker, where: str, raw: dict, episode: dict, base_dir) -> dict:
    chapters = []
    items = raw.get("chapters", [])
    if not isinstance(items, list):
        check.problem(where, "chapters must be a list")
        items = []
    last = -1
    for position, item in enumerate(items, start=1):
        label = f"{where}: chapter {position}"
        if not isinstance(item, dict):
            check.problem(label, "must be a table")
            continue
        title = check.text(label, item, "title", max_length=200)
        try:
            start = parse_duration(item.get("start"))
        except ValueError:
            check.problem(label, "start must be mm:ss or h:mm:ss")
            continue
        if start <= last:
            check.problem(label, "chapters must start in increasing order")
        if episode.get("duration_seconds") and start >= episode["duration_seconds"]:
            check.problem(label, "starts after the end of the episode")
        last = start
        chapters.append({"position": position, "title": title, "start_seconds": start})

    transcripts = {}
    raw_transcripts = raw.get("transcripts", {})
    if not isinstance(raw_transcripts, dict):
        check.problem(where, "transcripts must be a table of language = file")
        raw_transcripts = {}
    from coprod_study.catalog import transcript as transcript_service

    for language, relative in raw_transcripts.items():
        label = f"{where}: transcript {language}"
        if language not in transcript_service.TRANSCRIPT_LANGUAGES:
            check.problem(label, "unknown language")
            continue
        if base_dir is None or not isinstance(relative, str):
            check.problem(label, "must name a file next to the catalog file")
            continue
        path = (Path(base_dir) / relative).resolve()
        if not path.is_file() or Path(base_dir).resolve() not in path.parents:
            check.problem(label, f"no such file {relative!r} next to the catalog file")
            continue
        try:
            vtt, segments = transcript_service.parse(path.name, path.read_bytes())
        except DomainError as error:
            check.problem(label, f"{relative}: {error.message}")
            continue
        transcripts[language] = {"vtt": vtt, "segments": segments}

    translations = {}
    raw_translations = raw.get("translations", {})
    if not isinstance(raw_translations, dict):
        check.problem(where, "translations must be a table per language")
        raw_translations = {}
    for language, fields in raw_translations.items():
        label = f"{where}: translation {language}"
        if language not in TRANSLATABLE_LANGUAGES or not isinstance(fields, dict):
            check.problem(label, "must be a table for sv or en")
            continue
        entry = {
            "title": check.text(label, fields, "title", required=False, max_length=200),
            "summary": check.text(label, fields, "summary", required=False),
        }
        for key, count in (
            ("takeaways", len(episode["takeaways"])),
            ("questions", len(episode["questions"])),
            ("chapters", len(chapters)),
        ):
            values = fields.get(key)
            if values is None:
                entry[key] = None
                continue
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                check.problem(label, f"{key} must be a list of texts")
                values = None
            elif len(values) != count:
                check.problem(label, f"{key} has {len(values)} entries; the episode has {count}")
                values = None
            entry[key] = [v.strip() for v in values] if values else None
        translations[language] = entry
    return {"chapters": chapters, "transcripts": transcripts, "translations": translations}
