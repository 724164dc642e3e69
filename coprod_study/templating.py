"""What every template can use: the site name, policy questions, filters."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import get_locale
from flask_login import current_user

from coprod_study import policy
from coprod_study.markup import sanitized
from coprod_study.services.catalog import format_duration


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC datetime shown in the viewer's time zone, with the zone named."""
    if value is None:
        return ""
    zone_name = getattr(current_user, "time_zone", None) or "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = value.astimezone(zone)
    return f"{local.strftime(fmt)} {local.tzname()}"


def init_app(app):
    app.jinja_env.filters["sanitized"] = sanitized
    app.jinja_env.filters["duration"] = format_duration
    app.jinja_env.filters["local_time"] = local_time
    from coprod_study.services.transcripts import format_time

    app.jinja_env.filters["clock"] = format_time
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def globals_for_templates():
        from coprod_study.models import FLAG_REASONS, LANGUAGES
        from coprod_study.services.notifications import unread_count

        return {
            "site_name": app.config["SITE_NAME"],
            "policy": policy,
            "flag_reasons": FLAG_REASONS,
            "unread_notifications": (lambda: unread_count(current_user)),
            "current_locale": (lambda: str(get_locale())),
            "interface_languages": LANGUAGES,
        }
