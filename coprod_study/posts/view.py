"""What a post, or a page of answers, shows one reader: the templates read these, and kept HTML is keyed by them.

Every field a template reads is a field here, so the key of kept HTML
(`key_of`) holds all of them by construction: a new field that changes what a
reader sees changes the key with it. A field declared with compare=False
(the row itself, for what is loaded only to render) is left out of the key.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime

from flask import has_request_context, request
from flask_babel import get_locale, get_timezone

from coprod_study import policy

# What a post's transcript moment shows (its quote, speaker, episode number and
# link) is read from these tables when the post is rendered.
MOMENT_TABLES = ("transcript_segments", "transcripts", "episodes")
KEPT_MOMENT = "coprod_study.moment_versions"


def key_of(view) -> tuple:
    """The kept-HTML key of a view: its type and every field that is compared."""
    return (type(view).__name__, *(getattr(view, f.name) for f in fields(view) if f.compare))


def _reader_settings() -> tuple[str, str]:
    return str(get_locale()), str(get_timezone())


def _moment_versions() -> tuple:
    """The counters of the tables a moment's quote is read from (coprod_study.data_versions),
    so an edited transcript or a renumbered episode changes the key of every post that
    quotes it without loading the quotes on a hit: free for a signed-in reader (read
    with them), one query a request otherwise."""
    from coprod_study import data_versions
    from coprod_study.extensions import db

    # Kept in the request's environ, not `g`: an app context can outlive a request
    # (a test's, a task's) and later counters must not be hidden by earlier ones.
    kept = request.environ if has_request_context() else {}
    if KEPT_MOMENT not in kept:
        versions = data_versions.current_versions(db.session)
        kept[KEPT_MOMENT] = tuple(versions.get(name, 0) for name in MOMENT_TABLES)
    return kept[KEPT_MOMENT]


@dataclass(frozen=True)
class PostView:
    """One answer ('answer'), reply ('reply') or thread post ('post'), as one reader sees it."""

    kind: str
    id: int
    group_id: int
    group_slug: str
    author_label: str
    shows_text: bool  # not hidden, or hidden but the reader is its author or a facilitator
    body_html: str | None  # None when the text does not show
    hidden: bool
    hidden_reason: str | None  # None when the text does not show
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    segment_id: int | None
    thread_id: int | None
    can_see_history: bool
    can_edit: bool
    can_flag: bool
    can_moderate: bool
    can_post: bool
    locale: str
    time_zone: str
    # The counters of MOMENT_TABLES when the post quotes a moment, else None: the quote
    # is read from the row below, so these stand for it in the key.
    moment_versions: tuple | None = None
    # The row, for its transcript moment (named by segment_id above).
    source: object = field(default=None, compare=False, repr=False)


def post_view(viewer, group, post, kind: str, can_post: bool) -> PostView:
    shows_text = post.hidden_at is None or policy.can_see_hidden_text(viewer, group, post)
    locale, time_zone = _reader_settings()
    return PostView(
        kind=kind,
        id=post.id,
        group_id=group.id,
        group_slug=group.slug,
        author_label=str(policy.author_label(viewer, group, post)),
        shows_text=shows_text,
        body_html=post.body_html if shows_text else None,
        hidden=post.hidden_at is not None,
        hidden_reason=post.hidden_reason if shows_text else None,
        created_at=post.created_at,
        edited_at=post.edited_at,
        deleted_at=post.deleted_at,
        segment_id=getattr(post, "segment_id", None),
        thread_id=getattr(post, "thread_id", None),
        can_see_history=policy.can_see_history(viewer, group, post),
        can_edit=policy.can_edit_post(viewer, post),
        can_flag=policy.can_flag(viewer, post),
        can_moderate=policy.can_moderate(viewer, group),
        can_post=bool(can_post),
        locale=locale,
        time_zone=time_zone,
        moment_versions=_moment_versions() if getattr(post, "segment_id", None) else None,
        source=post,
    )


@dataclass(frozen=True)
class SectionView:
    """One page of a question's answers, as one reader sees it: the section's own
    fields, and `rows`, what its answers and replies show (answers.Fingerprint.rows),
    which stands for the posts' own views (the posts on the page are the same for
    readers with the same rights, names and settings)."""

    group_id: int
    group_slug: str
    allow_anonymous: bool
    study_question_id: int | None
    group_question_id: int | None
    number: int
    prompt: str
    page: int
    per_page: int
    moderator: bool
    can_post: bool
    can_see_history: bool
    # Their own posts show edit links (and no flag form) to the reader alone.
    own_author_id: int | None
    locale: str
    time_zone: str
    rows: tuple = ()


def section_view(viewer, group, question, page: int, per_page: int, authors=frozenset(),
                 rows: tuple = ()) -> SectionView:
    viewer_id = viewer.id if getattr(viewer, "is_authenticated", False) else None
    locale, time_zone = _reader_settings()
    return SectionView(
        group_id=group.id,
        group_slug=group.slug,
        allow_anonymous=group.allow_anonymous,
        study_question_id=question.study_question_id,
        group_question_id=question.group_question_id,
        number=question.number,
        prompt=question.prompt,
        page=max(1, page),
        per_page=per_page,
        moderator=policy.can_moderate(viewer, group),
        can_post=policy.can_post_in_group(viewer, group),
        can_see_history=policy.can_see_history(viewer, group),
        own_author_id=viewer_id if viewer_id in authors else None,
        locale=locale,
        time_zone=time_zone,
        rows=rows,
    )
