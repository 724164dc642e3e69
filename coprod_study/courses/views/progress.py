"""Views for a course's progress table and its CSV."""

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from coprod_study import page_cache, policy
from coprod_study.courses import bp, checkpoint_reports, progress_table
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


@bp.route("/<code>/progress")
@login_required
def progress(code: str):
    # Kept whole per reader (coprod_study.page_cache), the content once for all the
    # course's educators (courses/progress_table.py); a status that turns with the
    # clock alone (due soon, overdue) shows when the kept content expires.
    with page_cache.kept_page() as kept:
        course = load_course(code)
        _may_view_progress(course)
        return kept.find() or kept.keep(render_template(
            "courses/progress.html",
            course=course,
            content=progress_table.progress_content(
                course,
                group=request.args.get("group") or None,
                sort=request.args.get("sort", "name"),
                descending=request.args.get("order") == "desc",
                zone_name=getattr(current_user, "time_zone", None) or "UTC",
            ),
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
