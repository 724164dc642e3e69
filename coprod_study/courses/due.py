"""A person's unfinished assignments due soon, as the e-mail digest lists them."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from coprod_study.courses.service.clock import format_in_zone, now_utc
from coprod_study.courses.service.courses import course_path


@dataclass(frozen=True)
class DueItem:
    """An unfinished assignment as the e-mail digest lists it."""

    title: str
    due_text: str
    url: str


def due_within(user, days: int = 7, now: datetime | None = None) -> list[DueItem]:
    """The person's unfinished assignments due in the next `days` days."""
    from coprod_study.courses import progress

    now = now or now_utc()
    items = []
    for cell in progress.my_cells(user, now=now):
        if cell.complete or not now < cell.due_at <= now + timedelta(days=days):
            continue
        episode, course = cell.assignment.episode, cell.assignment.course
        items.append(
            DueItem(
                title=_(
                    "Episode %(number)s: %(title)s (%(code)s)",
                    number=episode.number,
                    title=episode.title,
                    code=course.code,
                ),
                due_text=_(
                    "due %(due)s; %(left)s",
                    due=format_in_zone(cell.due_at, user.time_zone),
                    left=cell.left,
                ),
                url=course_path(course),
            )
        )
    return items
