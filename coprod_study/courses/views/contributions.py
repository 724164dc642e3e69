"""Views for the course's contribution summary and its CSV."""

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required

from coprod_study import policy
from coprod_study.courses import bp
from coprod_study.courses import contributions as contribution_service
from coprod_study.courses.views.common import load_course
from coprod_study.models import CHECKPOINT_KINDS


def _summary(course):
    """Everyone's for the course's educators and admins, one's own for a learner.

    :raise 404: the viewer is neither (load_course already refused outsiders).
    """
    if policy.can_view_progress(current_user, course):
        viewer_id = None
    elif policy.is_course_learner(current_user, course):
        viewer_id = current_user.id
    else:
        abort(404)
    return contribution_service.summary(
        course, viewer_id, sort=request.args.get("sort", "name"),
        descending=request.args.get("order") == "desc",
    )


@bp.route("/<code>/contributions")
@login_required
def contributions(code: str):
    course = load_course(code)
    return render_template(
        "courses/contributions.html",
        course=course,
        table=_summary(course),
        sort_keys=contribution_service.SORT_KEYS,
        kinds=CHECKPOINT_KINDS,
        own=not policy.can_view_progress(current_user, course),
    )


@bp.route("/<code>/contributions.csv")
@login_required
def contributions_csv(code: str):
    course = load_course(code)
    return Response(
        contribution_service.summary_csv(_summary(course)),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{course.code}-contributions.csv"'},
    )
