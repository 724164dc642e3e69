"""The episode catalog: dimensions, episodes and their supplementary material."""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from coprod_study.models.base import Base, TimestampMixin, utcnow

TAKEAWAY_KINDS = {
    "key_lesson": _l("Key lessons"),
    "idea_to_ponder": _l("Ideas to ponder"),
    "start_applying": _l("Start applying it"),
}
AUDIENCES = {
    "learners": _l("Learners"),
    "practitioners": _l("Practitioners"),
    "patients_families": _l("Patients and families"),
    "improvers": _l("Improvers"),
    "researchers": _l("Researchers"),
}

dimension_relations = Table(
    "dimension_relations",
    Base.metadata,
    Column("dimension_id", ForeignKey("dimensions.id", ondelete="CASCADE"), primary_key=True),
    Column("related_id", ForeignKey("dimensions.id", ondelete="CASCADE"), primary_key=True),
)

episode_related_dimensions = Table(
    "episode_related_dimensions",
    Base.metadata,
    Column("episode_id", ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True),
    Column("dimension_id", ForeignKey("dimensions.id", ondelete="CASCADE"), primary_key=True),
)


class Dimension(Base):
    __tablename__ = "dimensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)

    # Stored one way as written in the catalog; related_all() reads both ways.
    relates_to: Mapped[list["Dimension"]] = relationship(
        secondary=dimension_relations,
        primaryjoin=lambda: Dimension.id == dimension_relations.c.dimension_id,
        secondaryjoin=lambda: Dimension.id == dimension_relations.c.related_id,
        order_by=lambda: Dimension.position,
    )
    related_from: Mapped[list["Dimension"]] = relationship(
        secondary=dimension_relations,
        primaryjoin=lambda: Dimension.id == dimension_relations.c.related_id,
        secondaryjoin=lambda: Dimension.id == dimension_relations.c.dimension_id,
        order_by=lambda: Dimension.position,
        viewonly=True,
    )

    def related_all(self) -> list["Dimension"]:
        seen = {d.id: d for d in [*self.relates_to, *self.related_from]}
        return sorted(seen.values(), key=lambda d: (d.position, d.name))


class Person(Base):
    """A guest or host of the series."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="")


class EpisodeGuest(Base):
    __tablename__ = "episode_guests"

    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(default=0)

    person: Mapped[Person] = relationship(lazy="joined")


class Episode(TimestampMixin, Base):
    __tablename__ = "episodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    number: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(String(200))
    dimension_id: Mapped[int] = mapped_column(ForeignKey("dimensions.id"), index=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    summary_html: Mapped[str] = mapped_column(Text, default="")
    published_on: Mapped[date | None]
    audio_url: Mapped[str | None] = mapped_column(String(500))
    duration_seconds: Mapped[int | None]
    host_name: Mapped[str | None] = mapped_column(String(120))
    is_sample: Mapped[bool] = mapped_column(default=False)
    # The podcast feed's <guid>, so a re-import updates instead of duplicating.
    guid: Mapped[str | None] = mapped_column(String(500), unique=True)

    dimension: Mapped[Dimension] = relationship()
    related_dimensions: Mapped[list[Dimension]] = relationship(
        secondary=episode_related_dimensions, order_by=lambda: Dimension.position
    )
    guests: Mapped[list[EpisodeGuest]] = relationship(
        order_by=lambda: EpisodeGuest.position, cascade="all, delete-orphan"
    )
    takeaways: Mapped[list["Takeaway"]] = relationship(
        order_by=lambda: Takeaway.position, cascade="all, delete-orphan"
    )
    questions: Mapped[list["StudyQuestion"]] = relationship(
        order_by=lambda: StudyQuestion.position, cascade="all, delete-orphan"
    )
    references: Mapped[list["Reference"]] = relationship(
        order_by=lambda: Reference.position, cascade="all, delete-orphan"
    )


class Takeaway(Base):
    __tablename__ = "takeaways"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)


class StudyQuestion(Base):
    __tablename__ = "study_questions"
    __table_args__ = (UniqueConstraint("episode_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    position: Mapped[int]
    prompt: Mapped[str] = mapped_column(Text)
    audiences: Mapped[list[str]] = mapped_column(JSON, default=list)


class Reference(Base):
    __tablename__ = "references"

    id: Mapped[int] = mapped_column(primary_key=True)
    episode_id: Mapped[int] = mapped_column(ForeignKey("episodes.id", ondelete="CASCADE"))
    position: Mapped[int]
    citation: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    doi: Mapped[str | None] = mapped_column(String(200))


class ListeningProgress(Base):
    __tablename__ = "listening_progress"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    episode_id: Mapped[int] = mapped_column(
        ForeignKey("episodes.id", ondelete="CASCADE"), primary_key=True
    )
    listened: Mapped[bool] = mapped_column(default=False)
    position_seconds: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
