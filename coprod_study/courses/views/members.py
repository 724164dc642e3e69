"""Views for a course's people: adding learners and educators, course groups, placing, leaving."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import policy
from coprod_study.courses import bp
from coprod_study.courses import service as course_service
from coprod_study.courses.forms import (
    ActionForm,
    AddEducatorForm,
    AddLearnersForm,
    ChooseGroupForm,
    CourseGroupForm,
    PlaceForm,
    PlacementForm,
)
from coprod_study.courses.views.common import _form_error, _user, load_course
from coprod_study.courses.views.courses import _render_show
from coprod_study.errors import DomainError
from coprod_study.models import PLACEMENTS


def _manager_post(code: str, form_class, form_name: str, action):
    """Validate a form on the course page, run `action(course, form)`, redirect back;
    on a problem show the course page again with the form's errors and input."""
    course = load_course(code, manage=True)
    form = form_class()
    if form.validate_on_submit():
        try:
            message = action(course, form)
        except DomainError as error:
            _form_error(form, error)
            return _render_show(course, error.status, **{form_name: form})
        flash(message, "success")
        return redirect(url_for("courses.show", code=course.code) + f"#{form_name}")
    return _render_show(course, 400, **{form_name: form})


@bp.route("/<code>/learners", methods=["POST"])
@login_required
def add_learners(code: str):
    def action(course, form):
        result = course_service.add_learners(_user(), course, form.emails.data)
        parts = []
        if result.added:
            names = ", ".join(u.display_name for u in result.added)
            parts.append(_("Enrolled: %(names)s.", names=names))
        if result.invited:
            parts.append(_("Invitation e-mailed to %(emails)s.", emails=", ".join(result.invited)))
        if result.already:
            names = ", ".join(u.display_name for u in result.already)
            parts.append(_("Already in the course: %(names)s.", names=names))
        return " ".join(parts)

    return _manager_post(code, AddLearnersForm, "learners_form", action)


@bp.route("/<code>/educators", methods=["POST"])
@login_required
def add_educator(code: str):
    def action(course, form):
        person = course_service.add_educator(_user(), course, form.email.data)
        return _("%(name)s is now an educator of this course.", name=person.display_name)

    return _manager_post(code, AddEducatorForm, "educator_form", action)


@bp.route("/<code>/groups", methods=["POST"])
@login_required
def create_group(code: str):
    def action(course, form):
        group = course_service.create_course_group(
            _user(), course, name=form.name.data, post_first=form.post_first.data
        )
        return _("The group %(name)s is ready.", name=group.name)

    return _manager_post(code, CourseGroupForm, "group_form", action)


@bp.route("/<code>/placement", methods=["POST"])
@login_required
def placement(code: str):
    def action(course, form):
        course_service.set_placement(_user(), course, form.placement.data)
        return f"{PLACEMENTS[course.placement]}."

    return _manager_post(code, PlacementForm, "placement_form", action)


@bp.route("/<code>/learners/<int:user_id>/place", methods=["POST"])
@login_required
def place(code: str, user_id: int):
    course = load_course(code, manage=True)
    form = PlaceForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        group = course_service.place_learner(_user(), course, user_id, form.group_id.data)
    except DomainError as error:
        if error.status == 404:
            abort(404)
        flash(error.message, "error")
    else:
        flash(_("Placed in %(name)s.", name=group.name) if group else _("Taken out of the course's groups."),
              "success")
    return redirect(url_for("courses.show", code=course.code) + "#learners")


def _confirm_departure(course, leaving, *, yourself: bool, action: str):
    """The page that says what leaving the course changes, before the POST does it."""
    return render_template(
        "courses/leave.html", course=course, departure=leaving, form=ActionForm(),
        yourself=yourself, action=action,
    )


@bp.route("/<code>/learners/<int:user_id>/remove", methods=["GET", "POST"])
@login_required
def remove_learner(code: str, user_id: int):
    """An educator takes a learner off the course, after a page that says what that
    changes."""
    course = load_course(code, manage=True)
    try:
        leaving = course_service.departure(course, user_id)
    except DomainError:
        abort(404)
    if request.method == "GET":
        return _confirm_departure(
            course, leaving, yourself=False,
            action=url_for("courses.remove_learner", code=code, user_id=user_id),
        )
    if not ActionForm().validate_on_submit():
        abort(400)
    course_service.remove_learner(_user(), course, user_id)
    flash(_("%(name)s is no longer a learner of the course.",
            name=leaving.learner.display_name), "success")
    return redirect(url_for("courses.show", code=course.code) + "#learners")


@bp.route("/<code>/leave", methods=["GET", "POST"])
@login_required
def leave(code: str):
    """A learner leaves the course, after a page that says what that changes."""
    course = load_course(code)
    if not policy.is_course_learner(current_user, course):
        abort(403)
    if request.method == "GET":
        return _confirm_departure(
            course, course_service.departure(course, current_user.id), yourself=True,
            action=url_for("courses.leave", code=code),
        )
    if not ActionForm().validate_on_submit():
        abort(400)
    course_service.remove_learner(_user(), course, current_user.id)
    flash(_("You have left %(course)s. Your answers stay with its groups.", course=course.title),
          "success")
    return redirect(url_for("courses.index"))


@bp.route("/<code>/enrol-code", methods=["POST"])
@login_required
def reset_enrol_code(code: str):
    course = load_course(code, manage=True)
    if not ActionForm().validate_on_submit():
        abort(400)
    course_service.reset_enrol_code(_user(), course)
    flash(_("The enrol code is new; the old one no longer works."), "success")
    return redirect(url_for("courses.show", code=course.code) + "#enrolment")


@bp.route("/<code>/choose-group", methods=["POST"])
@login_required
def choose_group(code: str):
    course = load_course(code)
    if not policy.can_choose_group(current_user, course):
        abort(403)
    form = ChooseGroupForm()
    if form.validate_on_submit():
        try:
            group = course_service.choose_group(_user(), course, form.group_id.data)
        except DomainError as error:
            _form_error(form, error)
            return _render_show(course, error.status, choose_form=form)
        flash(_("You are in the group %(name)s.", name=group.name), "success")
        return redirect(url_for("courses.show", code=course.code))
    return _render_show(course, 400, choose_form=form)
