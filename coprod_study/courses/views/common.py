"""What every /courses page shares: loading the course, its dates in the reader's zone, form errors."""

from flask import abort
from flask_login import current_user

from coprod_study import policy
from coprod_study.courses import bp
from coprod_study.courses import service as course_service
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error


def _user():
    return current_user._get_current_object()


@bp.app_template_filter("zoned")
def zoned(value, zone_name=None):
    """A UTC datetime in the viewer's own time zone (or `zone_name`), the zone named."""
    zone_name = zone_name or getattr(current_user, "time_zone", None) or "UTC"
    return course_service.format_in_zone(value, zone_name)


def load_course(code: str, *, manage: bool = False):
    """The course with this code, if the viewer may see it.

    :raise 404: no such course, or the viewer is neither in it nor an admin.
    :raise 403: `manage` is asked and the viewer is not one of its educators.
    """
    try:
        course = course_service.get_course(code, current_user)
    except DomainError:
        abort(404)
    if not policy.can_view_course(current_user, course):
        abort(404)
    if manage and not policy.can_manage_course(current_user, course):
        abort(403)
    return course


def _form_error(form, error: DomainError) -> None:
    add_domain_error(form, error)
    form.error_status = error.status


def _status_of(form) -> int:
    if form.errors or form.form_errors:
        return getattr(form, "error_status", 400)
    return 200
