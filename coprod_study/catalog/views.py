"""Views for the catalog pages."""

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select, text
from sqlalchemy.orm import joinedload, selectinload

from coprod_study import page_cache, policy
from coprod_study.catalog import bp, sharing, translations
from coprod_study.catalog import service as catalog_service
from coprod_study.catalog import transcript as transcript_service
from coprod_study.catalog.forms import ListenedForm
from coprod_study.courses import progress as progress_service
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.groups import service as group_service
from coprod_study.models import AUDIENCES, TAKEAWAY_KINDS, Dimension, Episode, EpisodeGuest


def _episode_list_stmt():
    return select(Episode).options(
        joinedload(Episode.dimension),
        selectinload(Episode.related_dimensions),
        selectinload(Episode.guests).selectinload(EpisodeGuest.person),
    )


def get_episode_for_texts(slug: str) -> Episode:
    """Load an episode without its guests and references, for a page that shows its
    title: its questions and takeaways come along only when the page's language
    is not the original, for their translations (translations.for_episode).

    :raise 404: when no episode has this slug.
    """
    options = []
    if str(get_locale()) != translations.ORIGINAL_LANGUAGE:
        options = [joinedload(Episode.questions), selectinload(Episode.takeaways)]
    episode = (
        db.session.scalars(select(Episode).options(*options).where(Episode.slug == slug))
        .unique()
        .first()
    )
    if episode is None:
        abort(404)
    return episode


def get_episode(slug: str) -> Episode:
    """Load an episode with everything its page shows.

    :raise 404: when no episode has this slug.
    """
    # The few questions and dimensions come joined to the episode's row; the
    # guests, takeaways and references in one query each.
    episode = (
        db.session.scalars(
            select(Episode)
            .options(
                joinedload(Episode.dimension),
                joinedload(Episode.related_dimensions),
                joinedload(Episode.questions),
                selectinload(Episode.guests).joinedload(EpisodeGuest.person),
                selectinload(Episode.takeaways),
                selectinload(Episode.references),
            )
            .where(Episode.slug == slug)
        )
        .unique()
        .first()
    )
    if episode is None:
        abort(404)
    return episode


@bp.route("/")
def index():
    with page_cache.kept_page() as kept:
        return kept.find() or kept.keep(_home_page())


def _home_page() -> str:
    newest = db.session.scalars(
        _episode_list_stmt()
        .order_by(Episode.published_on.desc().nulls_last(), Episode.number.desc())
        .limit(4)
    ).all()
    return render_template(
        "catalog/index.html",
        newest=newest,
        listened=catalog_service.listened_episode_ids(current_user),
        my_groups=group_service.my_groups(current_user),
        my_due=progress_service.my_due_dates(current_user),
        card=sharing.site_card(
            current_app.config["SITE_NAME"],
            _("Listen to the podcast series on coproduction of health care, then study each "
              "episode together: its guests, takeaways, study questions and references."),
            "catalog.index",
        ),
    )


@bp.route("/episodes")
def episodes():
    with page_cache.kept_page() as kept:
        return kept.find() or kept.keep(_episodes_page())


def _episodes_page() -> str:
    dimensions = db.session.scalars(select(Dimension).order_by(Dimension.position)).all()
    chosen = request.args.get("dimension") or None
    stmt = _episode_list_stmt().order_by(Episode.number)
    chosen_dimension = None
    if chosen:
        chosen_dimension = next((d for d in dimensions if d.slug == chosen), None)
        if chosen_dimension is None:
            flash(_("There is no such dimension; showing every episode."), "info")
        else:
            related_ids = select(Episode.id).join(Episode.related_dimensions).where(
                Dimension.id == chosen_dimension.id
            )
            stmt = stmt.where(
                (Episode.dimension_id == chosen_dimension.id) | Episode.id.in_(related_ids)
            )
    return render_template(
        "catalog/episodes.html",
        episodes=db.session.scalars(stmt).all(),
        dimensions=dimensions,
        chosen=chosen_dimension,
        listened=catalog_service.listened_episode_ids(current_user),
    )


@bp.route("/episodes/<slug>")
def episode(slug: str):
    with page_cache.kept_page() as kept:
        return kept.find() or kept.keep(_episode_page(slug))


def _episode_page(slug: str) -> str:
    item = get_episode(slug)
    audience = request.args.get("audience") or None
    if audience not in AUDIENCES:
        audience = None
    questions = [
        (index, question)
        for index, question in enumerate(item.questions, start=1)
        if audience is None or audience in question.audiences
    ]
    takeaways = {
        kind: [t for t in item.takeaways if t.kind == kind] for kind in TAKEAWAY_KINDS
    }
    chapters = transcript_service.chapters(item)
    card = sharing.episode_card(item)
    return render_template(
        "catalog/episode.html",
        episode=item,
        questions=questions,
        audience=audience,
        takeaways=takeaways,
        listened=item.id in catalog_service.listened_episode_ids(current_user),
        listened_form=ListenedForm(),
        audiences=AUDIENCES,
        takeaway_labels=TAKEAWAY_KINDS,
        chapters=chapters,
        text=translations.for_episode(item, str(get_locale()), chapters),
        transcript_languages=transcript_service.languages(item),
        language_names=transcript_service.TRANSCRIPT_LANGUAGES,
        card=card,
        linkedin_url=sharing.linkedin_share_url(card.url),
    )


@bp.route("/episodes/<slug>/listened", methods=["POST"])
@login_required
def mark_listened(slug: str):
    item = get_episode(slug)
    form = ListenedForm()
    if not policy.can_track_listening(current_user) or not form.validate_on_submit():
        abort(400)
    listened = form.listened.data == "1"
    catalog_service.set_listened(current_user, item, listened)
    flash(
        _("Marked as listened.") if listened else _("No longer marked as listened."),
        "success",
    )
    return redirect(url_for("catalog.episode", slug=item.slug))


@bp.route("/dimensions")
def dimensions():
    items = db.session.scalars(
        select(Dimension)
        .options(selectinload(Dimension.relates_to), selectinload(Dimension.related_from))
        .order_by(Dimension.position)
    ).all()
    episodes = db.session.scalars(
        select(Episode).options(selectinload(Episode.related_dimensions)).order_by(Episode.number)
    ).all()
    main_episodes = {d.id: [e for e in episodes if e.dimension_id == d.id] for d in items}
    also_in = {
        d.id: [e for e in episodes if d in e.related_dimensions and e.dimension_id != d.id]
        for d in items
    }
    card = sharing.site_card(
        _("Dimensions of coproduction"),
        _("Each episode takes up one dimension of coproduction of health care; see how the "
          "dimensions relate and which episodes take each up."),
        "catalog.dimensions",
    )
    return render_template(
        "catalog/dimensions.html",
        dimensions=items,
        main_episodes=main_episodes,
        also_in=also_in,
        card=card,
    )


@bp.route("/favicon.ico")
def favicon():
    # Browsers ask for /favicon.ico on every first visit; a 404 there shows up
    # as an error in the console of every page.
    return current_app.send_static_file("img/favicon.svg")


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:  # the point is to report any database failure
        db.session.rollback()
        return jsonify({"status": "error", "database": "unreachable", "detail": type(error).__name__}), 503
    from coprod_study.jobs import queue_health

    queue = queue_health()
    body = {"status": "ok", "database": "ok", "dialect": db.engine.dialect.name, "queue": queue}
    # A worker that is away does not make this app server unhealthy, unless asked.
    if request.args.get("queue") and queue["status"] != "ok":
        return jsonify(body | {"status": "error"}), 503
    return jsonify(body)


def _transcript_language(episode, available: list[str]) -> str | None:
    wanted = request.args.get("lang")
    if wanted in available:
        return wanted
    # The reader's interface language (their setting, else the browser), else English.
    preferred = str(get_locale())
    for language in (preferred, "en"):
        if language in available:
            return language
    return available[0] if available else None


@bp.route("/episodes/<slug>/transcript")
def transcript(slug: str):
    item = get_episode_for_texts(slug)
    available = transcript_service.languages(item)
    language = _transcript_language(item, available)
    # One message per state: with no transcript at all the page says only that.
    shows_another = bool(available) and request.args.get("lang") not in (None, "", language)
    current = transcript_service.get_transcript(item, language) if language else None
    anchors = set()
    rows = []
    for segment in current.segments if current else []:
        second = segment.start_ms // 1000
        rows.append((segment, second if second not in anchors else None))
        anchors.add(second)
    chapters = transcript_service.chapters(item)
    return render_template(
        "catalog/transcript.html",
        episode=item,
        languages=available,
        language=language,
        rows=rows,
        shows_another=shows_another,
        chapters=chapters,
        text=translations.for_episode(item, str(get_locale()), chapters),
        format_time=transcript_service.format_time,
        language_names=transcript_service.TRANSCRIPT_LANGUAGES,
        card=sharing.transcript_card(item, language),
    )


@bp.route("/episodes/<slug>/transcript.vtt")
def transcript_vtt(slug: str):
    item = get_episode(slug)
    current = transcript_service.get_transcript(item, request.args.get("lang", "en"))
    if current is None:
        abort(404)
    response = make_response(current.vtt)
    response.mimetype = "text/vtt"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{item.slug}.{current.language}.vtt"'
    )
    return response


@bp.route("/episodes/<slug>/moments/<int:segment_id>")
@login_required
def moment(slug: str, segment_id: int):
    from coprod_study.discussion import service as discussion
    from coprod_study.groups import service as group_service

    item = group_service.get_episode(slug)  # its questions: the moment can become an answer
    try:
        segment = transcript_service.segment_for_episode(item.id, segment_id)
    except DomainError:
        abort(404)
    groups = group_service.groups_studying(
        [g for g, m in group_service.my_groups(current_user) if m.status == "active"], item
    )
    extras = group_service.extra_questions_by_group([g.id for g in groups], [item.id])
    return render_template(
        "catalog/moment.html",
        episode=item,
        segment=segment,
        groups=groups,
        questions={g.id: group_service.questions_for(item, extras.get(g.id, [])) for g in groups},
        threads=discussion.episode_threads([g.id for g in groups], item.id),
        format_time=transcript_service.format_time,
    )


@bp.route("/language", methods=["POST"])
def set_language():
    """The footer's language switch: a cookie for visitors, the setting for members."""
    from coprod_study.catalog.forms import LanguageForm
    from coprod_study.i18n import set_language_response
    from coprod_study.security import is_safe_next

    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    language = form.language.data
    if current_user.is_authenticated:
        current_user.language = language
        db.session.commit()
    target = request.form.get("next")
    response = redirect(target if is_safe_next(target) else url_for("catalog.index"))
    return set_language_response(response, language)
