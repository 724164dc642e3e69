"""What every template can use: the site name, policy questions, filters."""

import re
from datetime import UTC, datetime

from babel.dates import parse_pattern
from babel.lists import format_list
from flask_babel import format_date, format_datetime, get_locale, get_timezone, to_user_timezone
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from coprod_study import policy
from coprod_study.catalog.service import format_duration
from coprod_study.markup import sanitized

# Flagged or hidden things, as the moderation page names them.
POST_KIND_LABELS = {
    "answer": _l("Answer"),
    "reply": _l("Reply to an answer"),
    "post": _l("Thread post"),
}

# The strftime patterns templates used to pass, and what they now mean.
# Rendered text longer than this is collapsed behind "Show more" (about 15 lines).
LONG_TEXT_CHARS = 1200

# A catalog card's summary line, and how paragraphs and an all-emphasis note look.
SUMMARY_LINE_CHARS = 150
_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)
_ALL_EMPHASIS = re.compile(r"<(em|strong)>.*</\1>", re.DOTALL)

STRFTIME_FORMATS = {"%Y-%m-%d": "date", "%Y-%m-%d %H:%M": "datetime"}
BABEL_FORMATS = ("short", "medium", "long", "full")


def local_time(value: datetime | None, fmt: str = "datetime") -> str:
    """A UTC datetime in the viewer's time zone and language, e.g. "May 1, 2024, 2:00 PM
    CEST" or "1 maj 2024 14:00 CEST"; the zone is named.

    `fmt` is "datetime" (a medium date and a short time), "date" (a medium date,
    the day in the viewer's zone), or Babel's "short", "medium", "long" or "full".
    A strftime pattern still works: one with an hour or minute means "datetime",
    any other "date".
    """
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    kind = STRFTIME_FORMATS.get(fmt, fmt)
    if kind not in ("date", "datetime", *BABEL_FORMATS):
        kind = "datetime" if "%H" in fmt or "%M" in fmt or "%I" in fmt else "date"
    if kind == "datetime":
        # The common case, on every post: the zone, language and pattern are
        # looked up once per request.
        locale, zone, pattern = _datetime_context()
        local = value.astimezone(zone)
        return f"{pattern.apply(local, locale)} {local.tzname()}"
    local = to_user_timezone(value)
    if kind == "date":
        return format_date(local, "medium")
    text = format_datetime(value, kind)
    if kind in ("long", "full"):
        return text  # these patterns name the zone themselves
    return f"{text} {local.tzname()}"


def _datetime_context():
    from coprod_study.i18n import per_locale

    def build():
        locale = get_locale()
        pattern = locale.datetime_formats["medium"].format(
            locale.time_formats["short"].pattern, locale.date_formats["medium"].pattern
        )
        return (locale, get_timezone(), parse_pattern(pattern))

    return per_locale("_coprod_datetime", build)


def _post_html(group, post, kind: str, can_post: bool, keep_marker: bool = False):
    from coprod_study.fragments import post_html

    return post_html(
        current_user._get_current_object(), group, post, kind, can_post, keep_marker
    )


def flag_choices() -> list[tuple[str, str]]:
    """The flag form's reasons in the reader's language, worked out once per request
    (every post on a page carries the form)."""
    from coprod_study.i18n import per_locale
    from coprod_study.models import FLAG_REASONS

    return per_locale(
        "_coprod_flag_choices",
        lambda: [(value, str(text)) for value, text in FLAG_REASONS.items()],
    )


def long_text(html: str | None) -> bool:
    """Whether rendered text is long enough to be collapsed behind "Show more"."""
    return len(html or "") > LONG_TEXT_CHARS


def summary_line(html: str | None, limit: int = SUMMARY_LINE_CHARS) -> str:
    """The first paragraph of a rendered summary as plain text, cut at a word near
    `limit`; a paragraph that is all emphasis (a note such as "Sample content ...")
    is passed over."""
    for paragraph in _PARAGRAPH.findall(html or ""):
        if _ALL_EMPHASIS.fullmatch(paragraph.strip()):
            continue
        text = " ".join(Markup(paragraph).striptags().split())  # noqa: S704 (tags are removed)
        if not text:
            continue
        if len(text) <= limit:
            return text
        cut = text[:limit].rsplit(" ", 1)[0].rstrip(",.;:")
        return f"{cut}…"
    return ""


def _episode_title(episode) -> str:
    from coprod_study.catalog.translations import episode_title

    return episode_title(episode)


def list_of(items) -> str:
    """"A, B and C" the reader's way ("A, B, and C" in English, "A, B och C" in Swedish)."""
    items = [str(item) for item in items]
    return format_list(items, locale=get_locale() or "en") if items else ""


def init_app(app):
    app.jinja_env.filters["format_list"] = list_of
    app.jinja_env.filters["sanitized"] = sanitized
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["summary_line"] = summary_line
    app.jinja_env.globals["long_text"] = long_text
    from coprod_study.catalog.transcript import format_time

    app.jinja_env.filters["clock"] = format_time
    # An episode's title in the reader's language wherever an episode is named.
    app.jinja_env.filters["episode_title"] = _episode_title
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def globals_for_templates():
        from coprod_study.models import (
            AUDIT_ACTIONS,
            EMAIL_PREFERENCES,
            FLAG_REASONS,
            LANGUAGES,
            ROLE_LABELS,
        )
        from coprod_study.notifications.service import unread_count

        return {
            "site_name": app.config["SITE_NAME"],
            "policy": policy,
            "flag_reasons": FLAG_REASONS,
            "flag_choices": flag_choices,
            "post_html": _post_html,
            "unread_notifications": (lambda: unread_count(current_user)),
            "current_locale": (lambda: str(get_locale())),
            "interface_languages": LANGUAGES,
            "email_preferences": EMAIL_PREFERENCES,
            "role_labels": ROLE_LABELS,
            "audit_actions": AUDIT_ACTIONS,
            "post_kind_labels": POST_KIND_LABELS,

        }
