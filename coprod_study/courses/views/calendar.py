"""Views for calendar feeds: a person's and a course's, and the private links to them."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from coprod_study.courses import bp
from coprod_study.courses import calendar as calendar_service
from coprod_study.courses import service as course_service
from coprod_study.courses.forms import (
    ActionForm,
)
from coprod_study.courses.views.common import _user
from coprod_study.errors import DomainError

# --- Calendar feeds -----------------------------------------------------------------------


def _ics(body: bytes, name: str) -> Response:
    return Response(
        body,
        content_type="text/calendar; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{name}.ics"',
            "Cache-Control": "private, max-age=0",
        },
    )


def _calendar_owner():
    """The owner of ?token=, or 404 for a missing, unknown, revoked or expired token."""
    owner = calendar_service.user_for_token(request.args.get("token"))
    if owner is None:
        abort(404)
    return owner


@bp.route("/calendar.ics")
def personal_calendar():
    owner = _calendar_owner()
    return _ics(calendar_service.feed(owner), "due-dates")


@bp.route("/<code>/calendar.ics")
def course_calendar(code: str):
    owner = _calendar_owner()
    try:
        course = course_service.get_course(code)
        body = calendar_service.feed(owner, course)
    except DomainError:
        abort(404)
    return _ics(body, course.code)


@bp.route("/calendar/links", methods=["POST"])
@login_required
def new_calendar_link():
    if not ActionForm().validate_on_submit():
        abort(400)
    user = _user()
    try:
        token = calendar_service.create_token(user)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("account.profile") + "#calendar")
    return render_template(
        "courses/calendar_link.html",
        personal=url_for("courses.personal_calendar", token=token, _external=True),
        per_course=[
            (course, url_for("courses.course_calendar", code=course.code, token=token,
                             _external=True))
            for course, _role in course_service.my_courses(user)
        ],
    )


@bp.route("/calendar/links/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_calendar_link(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        calendar_service.revoke_token(_user(), token_id)
    except DomainError:
        abort(404)
    flash(_("The calendar link is revoked; calendars using it stop updating."), "success")
    return redirect(url_for("account.profile") + "#calendar")
