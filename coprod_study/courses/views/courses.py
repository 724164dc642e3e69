"""Views for /courses: my courses, enrolling, creating a course, the course page, settings, invitations."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study import policy
from coprod_study.account.service import time_zone_names
from coprod_study.courses import bp
from coprod_study.courses import progress as progress_service
from coprod_study.courses import service as course_service
from coprod_study.courses.forms import (
    ActionForm,
    AddEducatorForm,
    AddLearnersForm,
    ChooseGroupForm,
    CourseForm,
    CourseGroupForm,
    CourseSettingsForm,
    EnrolForm,
    PlacementForm,
)
from coprod_study.courses.views.common import _form_error, _status_of, _user, load_course
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.models import PLACEMENTS
from coprod_study.pagination import paginate

# --- My courses, enrolling, creating ---------------------------------------------------


def _render_index(enrol_form=None, status=200):
    everything = None
    if policy.can_use_admin(current_user):
        everything = paginate(course_service.all_courses_stmt(), per_page=50)
    return (
        render_template(
            "courses/index.html",
            mine=course_service.my_courses(current_user),
            enrol_form=enrol_form or EnrolForm(),
            everything=everything,
        ),
        status,
    )


@bp.route("")
@login_required
def index():
    return _render_index()


@bp.route("/enrol", methods=["POST"])
@login_required
def enrol():
    form = EnrolForm()
    if not form.validate_on_submit():
        return _render_index(form, 400)
    try:
        course = course_service.enrol(_user(), form.code.data)
    except course_service.AlreadyEnrolled as already:
        # Nothing to correct: say so on the course's page.
        flash(already.message, "info")
        return redirect(url_for("courses.show", code=already.course.code))
    except DomainError as error:
        add_domain_error(form, error)
        return _render_index(form, error.status)
    flash(_("You are enrolled in %(title)s.", title=course.title), "success")
    return redirect(url_for("courses.show", code=course.code))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not policy.can_create_course(current_user):
        abort(403)
    form = CourseForm()
    if request.method == "GET":
        form.time_zone.data = current_user.time_zone or "UTC"
    if form.validate_on_submit():
        try:
            course = course_service.create_course(
                _user(),
                title=form.title.data,
                code=form.code.data,
                term=form.term.data or "",
                time_zone=form.time_zone.data,
                description=form.description.data or "",
                placement=form.placement.data,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(_("The course %(code)s is ready. Share its enrol code with learners.", code=course.code),
                  "success")
            return redirect(url_for("courses.show", code=course.code))
    return (
        render_template("courses/new.html", form=form, time_zones=time_zone_names()),
        _status_of(form),
    )


# --- The course page -----------------------------------------------------------------


def _render_show(course, status=200, **forms):
    user = _user()
    manager = policy.can_manage_course(current_user, course)
    groups = course_service.course_groups(course)
    rows = course_service.placements(course)
    placed = course_service.learner_groups(course, rows)
    context = {
        "course": course,
        "manager": manager,
        "role": policy.course_role(current_user, course),
        "groups": groups,
        "my_group": placed.get(user.id),
        "cells": progress_service.my_cells(user, course),
        "action_form": ActionForm(),
    }
    if policy.can_choose_group(current_user, course) and groups:
        choose = forms.get("choose_form") or ChooseGroupForm()
        choose.group_id.choices = [(g.id, g.name) for g in groups]
        if choose.group_id.data is None and placed.get(user.id):
            choose.group_id.data = placed[user.id].id
        context["choose_form"] = choose
    if manager:
        members = course_service.members_by_role(course)
        learners = members.get("learner", [])
        context.update(
            assignments=course_service.assignments(course),
            learners=learners,
            educators=members.get("educator", []),
            invites=course_service.pending_invites(course),
            placed=placed,
            group_counts=course_service.group_counts(rows, learners),
            group_choices=[(0, _("Not in a group"))] + [(g.id, g.name) for g in groups],
            learners_form=forms.get("learners_form") or AddLearnersForm(),
            educator_form=forms.get("educator_form") or AddEducatorForm(),
            group_form=forms.get("group_form") or CourseGroupForm(),
            placement_form=forms.get("placement_form")
            or PlacementForm(placement=course.placement),
            placements=PLACEMENTS,
        )
    return render_template("courses/show.html", **context), status


@bp.route("/<code>")
@login_required
def show(code: str):
    return _render_show(load_course(code))


@bp.route("/<code>/settings", methods=["GET", "POST"])
@login_required
def settings(code: str):
    course = load_course(code, manage=True)
    form = CourseSettingsForm(obj=course)
    if form.validate_on_submit():
        try:
            course_service.update_course(
                _user(),
                course,
                title=form.title.data,
                term=form.term.data or "",
                time_zone=form.time_zone.data,
                description=form.description.data or "",
                placement=form.placement.data,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(_("The course settings are saved."), "success")
            return redirect(url_for("courses.show", code=course.code))
    return (
        render_template(
            "courses/settings.html", course=course, form=form, time_zones=time_zone_names()
        ),
        _status_of(form),
    )


# --- Invitations ---------------------------------------------------------------------------


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invite(token: str):
    """Sign up (or, when signed in, accept) through an e-mailed course invitation."""
    from coprod_study.account import service as accounts
    from coprod_study.auth.forms import RegisterForm
    from coprod_study.security import start_session

    found = course_service.invite_for_token(token)
    if found is None:
        return render_template("courses/invite_invalid.html"), 404
    course = found.course
    if current_user.is_authenticated:
        form = ActionForm()
        if form.validate_on_submit():
            course_service.accept_invite(_user(), token)
            flash(_("You are enrolled in %(title)s.", title=course.title), "success")
            return redirect(url_for("courses.show", code=course.code))
        return render_template("courses/invite.html", course=course, form=form, register=None)
    form = RegisterForm()
    if request.method == "GET":
        form.email.data = found.email
    if form.validate_on_submit():
        try:
            user = accounts.register(form.email.data, form.display_name.data, form.password.data)
        except DomainError as error:
            _form_error(form, error)
        else:
            start_session(user, remember=False)
            accounts.record_login(user)
            course_service.accept_invite(user, token)
            flash(_("Welcome, %(display_name)s. You are enrolled in %(title)s.", display_name=user.display_name, title=course.title), "success")
            return redirect(url_for("courses.show", code=course.code))
    return (
        render_template("courses/invite.html", course=course, form=None, register=form),
        _status_of(form),
    )
