"""Transcripts with timed segments, chapters, translations of catalog text, search documents."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coprod_study.models.base import Base, utcnow
from coprod_study.models.catalog import Episode


class Transcript(Base):
    __tablename__ = "transcripts"
    __table_args__ = (UniqueConstraint("episode_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    # The WebVTT text as uploaded (SubRip is converted), offered for download.
    vtt: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    episode: Mapped["Episode"] = relationship()
    segments: Mapped[list["TranscriptSegment"]] = relationship(
        order_by=lambda: TranscriptSegment.position,
        cascade="all, delete-orphan",
        back_populates="transcript",
    )


class TranscriptSegment(Base):
    __tablename__ = "transcript_segments"
    __table_args__ = (Index("ix_transcript_segments_transcript_start", "transcript_id", "start_ms"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transcript_id: Mapped[int] = mapped_column(ForeignKey("transcripts.id", ondelete="CASCADE"))
    position: Mapped[int]
    start_ms: Mapped[int]
    end_ms: Mapped[int]
    speaker: Mapped[str | None] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)

    transcript: Mapped[Transcript] = relationship(back_populates="segments")

    @property
    def start_seconds(self) -> int:
        return self.start_ms // 1000


class Chapter(Base):
    __tablename__ = "chapters"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    start_seconds: Mapped[int]


class ContentTranslation(Base):
    """A catalog text in another language: (what, which one, which field) -> text."""

    __tablename__ = "content_translations"
    __table_args__ = (UniqueConstraint("entity", "entity_id", "field", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    field: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)


class SearchDocument(Base):
    """One searchable thing. A full-text index sits on top: FTS5 on SQLite, a
    tsvector column with a GIN index on PostgreSQL (both made by the migration)."""

    __tablename__ = "search_documents"
    __table_args__ = (
        UniqueConstraint("kind", "ref_id"),
        Index("ix_search_documents_group", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # episode, segment, answer, reply, post
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[int]
    group_id: Mapped[int | None]
    episode_id: Mapped[int | None]
    author_id: Mapped[int | None]
    # For answers and replies: "<group>:s:<question>" or "<group>:g:<question>",
    # so post-before-you-see-others can be applied in the query.
    question_ref: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str | None] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    # The Swedish stems of a Swedish document's words, for SQLite's index (FTS5 has
    # no Swedish stemmer); empty for the others and unused on PostgreSQL.
    stems: Mapped[str] = mapped_column(Text, default="", server_default="")


class SearchGeneration(Base):
    """One row whose number goes up whenever search documents are changed or removed.

    With the highest document id (which a new document raises) it tells a process
    whether results it kept for a search still stand (search/service.py).
    """

    __tablename__ = "search_generation"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)
