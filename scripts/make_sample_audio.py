"""Speak the sample episodes' scripts and write their audio, transcripts and timings.

Each file in scripts/sample_audio/ holds one sample episode's lines (speaker, text per
language, and the chapter a line opens). This script speaks the lines of the spoken
language with espeak-ng, one voice per speaker, joins them with short pauses and encodes
one mono 16 kbit/s MP3 with lame into static/audio/sample/. From the measured length of
every spoken line it writes the WebVTT transcripts (every language gets the spoken
language's timings, like subtitles) and sets the episode's audio_url, duration and
chapter starts in the sample catalog, so cues and chapters match what is heard.

    apt-get install -y espeak-ng lame
    python scripts/make_sample_audio.py            # every script
    python scripts/make_sample_audio.py respect-in-the-room

It lives outside the package: the app only serves what it writes, and neither tool is
needed to run the app.
"""

import argparse
import array
import math
import re
import shutil
import subprocess  # noqa: S404 (runs espeak-ng and lame, fixed arguments)
import sys
import tempfile
import tomllib
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPTS = ROOT / "scripts" / "sample_audio"
CATALOG = ROOT / "coprod_study" / "catalog" / "sample_catalog.toml"
TRANSCRIPTS = ROOT / "coprod_study" / "catalog" / "transcripts"
AUDIO = ROOT / "static" / "audio" / "sample"
AUDIO_URL = "/static/audio/sample/{slug}.mp3"

RATE = 22050  # what espeak-ng writes
WORDS_PER_MINUTE = 165
LEAD_IN = 0.5  # seconds of silence before the first line
PAUSE_SAME = 0.35  # between two lines of one speaker
PAUSE_TURN = 0.6  # when the speaker changes
TAIL = 1.0  # after the last line, so the last cue ends well inside the file
SILENCE = 300  # a sample quieter than this (of 32767) counts as silence when trimming


def tool(name: str) -> str:
    """The tool's full path, so the script runs the program it checked for."""
    path = shutil.which(name)
    if path is None:
        sys.exit(f"{name} is missing: apt-get install -y espeak-ng lame")
    return path


def speak(text: str, voice: str, folder: Path) -> array.array:
    """One line as 16-bit mono samples at RATE, without espeak-ng's own lead-in and tail."""
    target = folder / "line.wav"
    subprocess.run(  # noqa: S603
        [tool("espeak-ng"), "-v", voice, "-s", str(WORDS_PER_MINUTE), "-w", str(target), text],
        check=True,
    )
    with wave.open(str(target), "rb") as source:
        if (source.getframerate(), source.getnchannels(), source.getsampwidth()) != (RATE, 1, 2):
            raise SystemExit(f"espeak-ng wrote an unexpected format for {voice}")
        samples = array.array("h", source.readframes(source.getnframes()))
    loud = [i for i, value in enumerate(samples) if abs(value) > SILENCE]
    return samples[loud[0] : loud[-1] + 1] if loud else samples


def silence(seconds: float) -> array.array:
    return array.array("h", bytes(2 * round(seconds * RATE)))


def stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


def clock(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def build(script: dict, folder: Path) -> tuple[array.array, list[tuple[float, float]]]:
    """All lines joined with pauses, and each line's (start, end) in seconds."""
    spoken = script["spoken"]
    voices = script["speakers"]
    audio = silence(LEAD_IN)
    timings = []
    previous = None
    for number, line in enumerate(script["lines"], start=1):
        if line["speaker"] not in voices:
            raise SystemExit(f"line {number}: no voice for {line['speaker']!r}")
        if previous is not None:
            pause = PAUSE_SAME if line["speaker"] == previous else PAUSE_TURN
            audio.extend(silence(pause))
        start = len(audio) / RATE
        audio.extend(speak(line[spoken], voices[line["speaker"]], folder))
        timings.append((start, len(audio) / RATE))
        previous = line["speaker"]
    audio.extend(silence(TAIL))
    return audio, timings


def encode(audio: array.array, folder: Path, target: Path) -> None:
    source = folder / "episode.wav"
    with wave.open(str(source), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(audio.tobytes())
    target.parent.mkdir(parents=True, exist_ok=True)
    # Mono, 16 kHz, constant 16 kbit/s: small, played by every browser, and a
    # constant rate lets a player seek to a transcript line exactly.
    subprocess.run(  # noqa: S603
        [tool("lame"), "--quiet", "-m", "m", "--resample", "16", "--cbr", "-b", "16",
         "--tt", "Sample audio (synthetic voices)", str(source), str(target)],
        check=True,
    )


def write_vtt(script: dict, language: str, timings: list[tuple[float, float]]) -> str:
    parts = [
        "WEBVTT",
        "NOTE Sample content written for this app: the host and the guests are invented. "
        "Made by scripts/make_sample_audio.py; edit the script, not this file.",
    ]
    for line, (start, end) in zip(script["lines"], timings, strict=True):
        text = line.get(language)
        if not text:
            raise SystemExit(f"{script['slug']}: a line has no {language} text")
        parts.append(f"{stamp(start)} --> {stamp(end)}\n<v {line['speaker']}>{text}")
    body = "\n\n".join(parts) + "\n"
    (TRANSCRIPTS / f"{script['slug']}.{language}.vtt").write_text(body, encoding="utf-8")
    return body


def episode_block(catalog: str, slug: str) -> tuple[int, int]:
    """Where the episode's table starts and ends in the catalog file's text."""
    starts = [m.start() for m in re.finditer(r"^\[\[episodes\]\]$", catalog, re.M)]
    for index, begin in enumerate(starts):
        end = starts[index + 1] if index + 1 < len(starts) else len(catalog)
        if re.search(rf'^slug = "{re.escape(slug)}"$', catalog[begin:end], re.M):
            return begin, end
    raise SystemExit(f"no episode {slug!r} in {CATALOG}")


def update_catalog(script: dict, timings: list, duration: int, languages: list[str]) -> None:
    slug = script["slug"]
    catalog = CATALOG.read_text(encoding="utf-8")
    begin, end = episode_block(catalog, slug)
    block = catalog[begin:end]
    block = re.sub(r'^audio_url = ".*"$', f'audio_url = "{AUDIO_URL.format(slug=slug)}"', block,
                   count=1, flags=re.M)
    block = re.sub(r'^duration = ".*"$', f'duration = "{clock(duration)}"', block, count=1, flags=re.M)
    files = ", ".join(f'{lang} = "transcripts/{slug}.{lang}.vtt"' for lang in languages)
    block = re.sub(r"^transcripts = \{.*\}$", f"transcripts = {{ {files} }}", block, count=1, flags=re.M)
    if "transcripts = {" not in block:
        raise SystemExit(f"{slug}: add a transcripts = {{ ... }} line to the episode first")
    opened = [(line["chapter"], start) for line, (start, _end) in zip(script["lines"], timings, strict=True)
              if line.get("chapter")]
    titles = re.findall(r'^  title = "(.*)"\n  start = ".*"$', block, re.M)
    if titles != [title for title, _start in opened]:
        raise SystemExit(f"{slug}: the script's chapters {[t for t, _ in opened]} are not the catalog's {titles}")
    starts = iter(opened)

    def next_start(match):
        title, start = next(starts)
        # A chapter starts on the whole second its first line starts in, so the
        # chapter link and that line's #t= anchor are the same.
        return f'  title = "{title}"\n  start = "{clock(0 if start < 1 else math.floor(start))}"'

    block = re.sub(r'^  title = "(.*)"\n  start = ".*"$', next_start, block, flags=re.M)
    CATALOG.write_text(catalog[:begin] + block + catalog[end:], encoding="utf-8")


def make(path: Path) -> None:
    script = tomllib.loads(path.read_text(encoding="utf-8"))
    languages = [script["spoken"]] + sorted(
        {key for line in script["lines"] for key in line} - {"speaker", "chapter", script["spoken"]}
    )
    with tempfile.TemporaryDirectory() as folder:
        audio, timings = build(script, Path(folder))
        target = AUDIO / f"{script['slug']}.mp3"
        encode(audio, Path(folder), target)
    for language in languages:
        write_vtt(script, language, timings)
    # Whole seconds down, as players show it; the tail of silence keeps the last
    # cue inside the file.
    duration = math.floor(len(audio) / RATE)
    update_catalog(script, timings, duration, languages)
    print(f"{script['slug']}: {clock(duration)}, {len(timings)} lines, "
          f"{target.stat().st_size // 1024} KiB, transcripts {', '.join(languages)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("slugs", nargs="*", help="episodes to make (default: every script)")
    args = parser.parse_args()
    tool("espeak-ng")
    tool("lame")
    paths = [SCRIPTS / f"{slug}.toml" for slug in args.slugs] or sorted(SCRIPTS.glob("*.toml"))
    for path in paths:
        make(path)


if __name__ == "__main__":
    main()
