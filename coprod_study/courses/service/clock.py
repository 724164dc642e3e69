"""The time now and dates in a course's time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask_babel import get_locale
from flask_babel import gettext as _

from coprod_study.errors import DomainError
from coprod_study.i18n import DEFAULT_LANGUAGE


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- Time -----------------------------------------------------------------------


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def to_utc(local: datetime, zone_name: str, field_name: str) -> datetime:
    """A wall-clock time in `zone_name` as an aware UTC datetime.

    :raise DomainError: for a time the clocks skip when summer time starts.
    """
    local = local.replace(second=0, microsecond=0, tzinfo=None)
    place = zone(zone_name)
    # fold=0: in the repeated hour when clocks go back, the first one is meant.
    moment = local.replace(tzinfo=place, fold=0).astimezone(UTC)
    if moment.astimezone(place).replace(tzinfo=None) != local:
        raise DomainError(
            _(
                "%(time)s does not exist in %(zone)s: the clocks skip that hour when summer "
                "time starts. Choose another time.",
                time=local.strftime("%Y-%m-%d %H:%M"),
                zone=place.key,
            ),
            field=field_name,
        )
    return moment


def to_local(value: datetime, zone_name: str) -> datetime:
    """A UTC datetime as naive wall-clock time in `zone_name` (to fill a form)."""
    return value.astimezone(zone(zone_name)).replace(tzinfo=None)


def format_in_zone(value: datetime | None, zone_name: str | None) -> str:
    """e.g. "Mon 30 Mar 2026, 17:00 CEST (Europe/Stockholm)": the zone always named,
    the day and month in the reader's language ("mån 30 mars 2026, 17:00 CEST ...")."""
    if value is None:
        return ""
    place = zone(zone_name)
    local = value.astimezone(place)
    abbreviation = local.tzname() or ""
    locale = get_locale() or DEFAULT_LANGUAGE
    when = format_datetime(local, "EEE d MMM y, HH:mm", tzinfo=place, locale=locale)
    text = f"{when} {abbreviation}".rstrip()
    if abbreviation != place.key:
        text += f" ({place.key})"
    return text
