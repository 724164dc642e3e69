"""Views for a course's progress table and its CSV."""

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from coprod_study import page_cache, policy
from coprod_study.courses import bp, checkpoint_reports
from coprod_study.courses import progress as progress_service
from coprod_study.courses.views.common import load_course

# --- Progress ---------------------------------------------------------------------------


def _may_view_progress(course) -> None:
    if not policy.can_view_progress(current_user, course):
        abort(403)


def _progress_table(course):
    return progress_service.progress_table(
        course,
        group=request.args.get("group") or None,
        sort=request.args.get("sort", "name"),
        descending=request.args.get("order") == "desc",
    )


class CellWords:
    """The progress table's words, translated once per page rather than once per cell
    (300 learners and 12 assignments make 3,600 cells)."""

    def __init__(self):
        self.listened = _("Listened")
        self.not_listened = _("Not listened")
        self.extended = _("(ext.)")
        self._answered = _("%(answered)s/%(required)s answered")
        self._chips = {key: str(label) for key, label in progress_service.CHIP_LABELS.items()}
        self._replies: dict[int, str] = {}

    def answered(self, cell) -> str:
        return self._answered % {"answered": cell.answered, "required": cell.required}

    def replies(self, count: int) -> str:
        if count not in self._replies:
            self._replies[count] = ngettext("%(count)s reply", "%(count)s replies", count,
                                            count=count)
        return self._replies[count]

    def status(self, cell) -> str:
        """The cell's status chip: its word, never colour alone."""
        return self._chips[cell.status]


@bp.route("/<code>/progress")
@login_required
def progress(code: str):
    # Kept whole (coprod_study.page_cache): 300 learners and 12 assignments take a
    # while to build; a status that turns with the clock alone (due soon, overdue)
    # shows when the kept page expires.
    with page_cache.kept_page() as kept:
        course = load_course(code)
        _may_view_progress(course)
        return kept.find() or kept.keep(render_template(
            "courses/progress.html",
            course=course,
            table=(table := _progress_table(course)),
            checkpoints=checkpoint_reports.for_table(table),
            sort_keys=progress_service.SORT_KEYS,
            labels=progress_service.STATUS_LABELS,
            words=CellWords(),
        ))


@bp.route("/<code>/progress.csv")
@login_required
def progress_csv(code: str):
    course = load_course(code)
    _may_view_progress(course)
    table = _progress_table(course)
    return Response(
        progress_service.progress_csv(
            table, checkpoint_reports.CSV_COLUMNS,
            checkpoint_reports.csv_values(checkpoint_reports.for_table(table)),
        ),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{course.code}-progress.csv"'},
    )
