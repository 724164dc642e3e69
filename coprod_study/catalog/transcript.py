"""Transcripts: check a WebVTT or SubRip file line by line, parse it with webvtt-py, store it."""

import io
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.errors import DomainError, NotFound
from coprod_study.extensions import db
from coprod_study.models import LANGUAGES, Transcript, TranscriptSegment

MAX_BYTES = 5 * 1024 * 1024
# Languages a transcript may be in: the interface languages and a few more.
TRANSCRIPT_LANGUAGES = {**LANGUAGES, "de": "Deutsch", "es": "Español", "fr": "Français"}
_TIME = r"(?:(\d{1,2}):)?([0-5]\d):([0-5]\d)[.,](\d{3})"
VTT_TIMING = re.compile(rf"^{_TIME}\s+-->\s+{_TIME}(?:\s+.*)?$")
SRT_TIMING = re.compile(rf"^{_TIME}\s+-->\s+{_TIME}\s*$")


class TranscriptError(DomainError):
    """A file that cannot be stored; the message names the line."""

    def __init__(self, message: str, line: int | None = None):
        where = f"Line {line}: " if line else ""
        super().__init__(where + message, field="file")
        self.line = line


def _millis(groups) -> int:
    hours, minutes, seconds, millis = groups
    return ((int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def _decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise TranscriptError(_("The file is larger than 5 MB."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise TranscriptError(_("The file is not UTF-8 text."), line) from error
    if "\x00" in text:
        raise TranscriptError(_("The file is not a text file."))
    return text.replace("\r\n", "\n").replace("\r", "\n")


def detect_format(filename: str, text: str) -> str:
    if text.lstrip("\ufeff").startswith("WEBVTT"):
        return "vtt"
    if (filename or "").lower().endswith(".srt"):
        return "srt"
    if (filename or "").lower().endswith(".vtt"):
        raise TranscriptError(_("A WebVTT file must start with the line WEBVTT."), 1)
    raise TranscriptError(_("Upload a WebVTT (.vtt) or SubRip (.srt) file."), 1)


def check(text: str, fmt: str) -> int:
    """Check every cue; raise TranscriptError naming the first bad line. Returns the cue count."""
    lines = text.split("\n")
    timing = VTT_TIMING if fmt == "vtt" else SRT_TIMING
    index = 1 if fmt == "vtt" else 0
    cues = 0
    last_start = -1
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        block_start = index
        block = []
        while index < len(lines) and lines[index].strip():
            block.append(lines[index])
            index += 1
        if fmt == "vtt" and block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        arrow = next((i for i, line in enumerate(block) if "-->" in line), None)
        if arrow is None:
            raise TranscriptError(_("Expected a timing line such as 00:01:02.000 --> 00:01:05.000."), block_start + 1)
        if fmt == "srt" and (arrow != 1 or not block[0].strip().isdigit()):
            raise TranscriptError(_("A SubRip cue starts with its number, then the timing line."), block_start + 1)
        if fmt == "vtt" and arrow > 1:
            raise TranscriptError(_("Expected the timing line right after the cue name."), block_start + arrow + 1)
        line_number = block_start + arrow + 1
        match = timing.match(block[arrow].strip())
        if not match:
            raise TranscriptError(_("This timing line is not valid: %(line)s.", line=repr(block[arrow].strip()[:80])), line_number)
        start, end = _millis(match.groups()[:4]), _millis(match.groups()[4:8])
        if end <= start:
            raise TranscriptError(_("The cue ends before it starts."), line_number)
        if start < last_start:
            raise TranscriptError(_("Cues must be in time order."), line_number)
        if len(block) == arrow + 1:
            raise TranscriptError(_("The cue has no text."), line_number)
        last_start = start
        cues += 1
    if not cues:
        raise TranscriptError(_("The file has no cues."))
    return cues


@dataclass
class ParsedSegment:
    start_ms: int
    end_ms: int
    speaker: str | None
    text: str


def parse(filename: str, raw: bytes) -> tuple[str, list[ParsedSegment]]:
    """Return (WebVTT text, segments) or raise TranscriptError."""
    text = _decode(raw)
    fmt = detect_format(filename, text)
    count = check(text, fmt)
    import webvtt  # loaded where a transcript is read, not in every worker

    try:
        captions = webvtt.from_buffer(io.StringIO(text), format=fmt)
    except Exception as error:  # the library's own complaint, after ours found none
        raise TranscriptError(_("The file could not be read: %(error)s.", error=error)) from error
    if len(captions) != count:
        raise TranscriptError(_("Some cues could not be read; check the timing lines."))
    segments = [
        ParsedSegment(
            start_ms=_to_ms(caption.start),
            end_ms=_to_ms(caption.end),
            speaker=(getattr(caption, "voice", None) or None),
            text=" ".join(caption.text.split()),
        )
        for caption in captions
    ]
    return captions.content, segments


def _to_ms(stamp: str) -> int:
    match = re.match(_TIME, stamp)
    return _millis(match.groups()) if match else 0


def store_transcript(episode, language: str, filename: str, raw: bytes) -> Transcript:
    """Create or replace the transcript of `episode` in `language`, all or nothing."""
    if language not in TRANSCRIPT_LANGUAGES:
        raise DomainError(_("Choose one of the offered languages."), field="language")
    vtt, segments = parse(filename, raw)
    transcript = db.session.scalar(
        select(Transcript).where(Transcript.episode_id == episode.id, Transcript.language == language)
    )
    if transcript is None:
        transcript = Transcript(episode_id=episode.id, language=language, vtt=vtt)
        db.session.add(transcript)
    else:
        transcript.vtt = vtt
        transcript.segments.clear()
        db.session.flush()
    for position, segment in enumerate(segments, start=1):
        transcript.segments.append(
            TranscriptSegment(
                position=position,
                start_ms=segment.start_ms,
                end_ms=segment.end_ms,
                speaker=segment.speaker,
                text=segment.text,
            )
        )
    db.session.commit()
    return transcript


def delete_transcript(episode, language: str) -> None:
    transcript = db.session.scalar(
        select(Transcript).where(Transcript.episode_id == episode.id, Transcript.language == language)
    )
    if transcript is None:
        raise NotFound(_("There is no transcript in that language."))
    db.session.delete(transcript)
    db.session.commit()


def languages(episode) -> list[str]:
    return list(
        db.session.scalars(
            select(Transcript.language).where(Transcript.episode_id == episode.id).order_by(Transcript.language)
        )
    )


def has_transcript(episode) -> bool:
    return db.session.scalar(
        select(Transcript.id).where(Transcript.episode_id == episode.id).limit(1)
    ) is not None


def get_transcript(episode, language: str) -> Transcript | None:
    return db.session.scalar(
        select(Transcript)
        .options(selectinload(Transcript.segments))
        .where(Transcript.episode_id == episode.id, Transcript.language == language)
    )


def format_time(milliseconds: int) -> str:
    seconds = milliseconds // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def get_segment(segment_id: int) -> TranscriptSegment | None:
    return db.session.scalar(
        select(TranscriptSegment)
        .options(selectinload(TranscriptSegment.transcript))
        .where(TranscriptSegment.id == segment_id)
    )


def segment_for_episode(episode_id: int, segment_id) -> TranscriptSegment:
    """The segment `segment_id` if it belongs to the episode.

    :raise DomainError: it does not (a post can quote only its own episode).
    """
    try:
        segment = get_segment(int(segment_id))
    except (TypeError, ValueError):
        segment = None
    if segment is None or segment.transcript.episode_id != episode_id:
        raise DomainError(_("That moment is not in this episode's transcript."))
    return segment


def chapters(episode) -> list:
    from coprod_study.models import Chapter

    return list(
        db.session.scalars(
            select(Chapter).where(Chapter.episode_id == episode.id).order_by(Chapter.position)
        )
    )


def moments_discussed(group, episode) -> list[tuple[TranscriptSegment, int]]:
    """Transcript moments quoted in the group's answers and posts, in time order, with counts."""
    from sqlalchemy import func, union_all

    from coprod_study.models import Answer, Post, Thread

    quoted = union_all(
        select(Answer.segment_id.label("segment_id")).where(
            Answer.group_id == group.id,
            Answer.segment_id.is_not(None),
            Answer.deleted_at.is_(None),
            Answer.hidden_at.is_(None),
        ),
        select(Post.segment_id.label("segment_id"))
        .join(Thread, Thread.id == Post.thread_id)
        .where(
            Thread.group_id == group.id,
            Post.segment_id.is_not(None),
            Post.deleted_at.is_(None),
            Post.hidden_at.is_(None),
        ),
    ).subquery()
    rows = db.session.execute(
        select(TranscriptSegment, func.count())
        .join(quoted, quoted.c.segment_id == TranscriptSegment.id)
        .join(Transcript, Transcript.id == TranscriptSegment.transcript_id)
        .where(Transcript.episode_id == episode.id)
        .group_by(TranscriptSegment.id)
        .order_by(TranscriptSegment.start_ms)
    ).all()
    return [(segment, count) for segment, count in rows]
