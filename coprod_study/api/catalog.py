"""The public part of the API: the episode catalog and the dimensions."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.api import bp, serialize
from coprod_study.api import outputs as out
from coprod_study.api.inputs import ListQuery, check_slug, read_query
from coprod_study.api.spec import operation
from coprod_study.api.support import ApiError, decode_cursor, page
from coprod_study.extensions import db
from coprod_study.models import Chapter, Dimension, Episode, EpisodeGuest, Transcript


def _languages(episode_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {episode_id: [] for episode_id in episode_ids}
    if episode_ids:
        rows = db.session.execute(
            select(Transcript.episode_id, Transcript.language)
            .where(Transcript.episode_id.in_(episode_ids))
            .order_by(Transcript.language)
        )
        for episode_id, language in rows:
            found[episode_id].append(language)
    return found


@bp.route("/dimensions")
@operation(
    "The dimensions of coproduction", "catalog", public=True, query=ListQuery,
    ok=out.DimensionPage, answers="A page of dimensions, in the series' order.",
)
def dimensions():
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int, int)
    stmt = (
        select(Dimension)
        .options(selectinload(Dimension.relates_to), selectinload(Dimension.related_from))
        .order_by(Dimension.position, Dimension.id)
    )
    if after is not None:
        position, dimension_id = after
        stmt = stmt.where(
            (Dimension.position > position)
            | ((Dimension.position == position) & (Dimension.id > dimension_id))
        )
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    return page(
        rows,
        limit,
        lambda d: (d.position, d.id),
        lambda d: {
            "slug": d.slug,
            "name": d.name,
            "description": d.description,
            "description_html": d.description_html,
            "related": [serialize.dimension_ref(other) for other in d.related_all()],
        },
    )


def _episode_stmt():
    return select(Episode).options(
        selectinload(Episode.dimension),
        selectinload(Episode.related_dimensions),
        selectinload(Episode.guests).selectinload(EpisodeGuest.person),
    )


@bp.route("/episodes")
@operation(
    "The episode catalog", "catalog", public=True, query=ListQuery, ok=out.EpisodePage,
    answers="A page of episodes by number.",
)
def episodes():
    params = read_query()
    limit, after = params.limit, decode_cursor(params.cursor, int)
    stmt = _episode_stmt().order_by(Episode.number)
    if after is not None:
        stmt = stmt.where(Episode.number > after[0])
    rows = list(db.session.scalars(stmt.limit(limit + 1)))
    languages = _languages([e.id for e in rows])
    return page(
        rows, limit, lambda e: (e.number,), lambda e: serialize.episode_summary(e, languages[e.id])
    )


@bp.route("/episodes/<slug>")
@operation(
    "One episode with everything about it", "catalog", public=True, ok=out.Episode,
    path={"slug": "The episode's slug."},
    answers="The episode with guests, takeaways, questions, references, "
    "chapters and the languages of its transcripts.",
)
def episode(slug: str):
    check_slug(slug)
    item = db.session.scalar(
        _episode_stmt()
        .options(
            selectinload(Episode.takeaways),
            selectinload(Episode.questions),
            selectinload(Episode.references),
        )
        .where(Episode.slug == slug)
    )
    if item is None:
        raise ApiError(404, "There is no such episode.")
    chapters = list(
        db.session.scalars(
            select(Chapter).where(Chapter.episode_id == item.id).order_by(Chapter.position)
        )
    )
    return serialize.episode_detail(item, _languages([item.id])[item.id], chapters)
