"""Views for /courses: thin wrappers that ask policy and call the course services."""

import re

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study import page_cache, policy
from coprod_study.account.service import time_zone_names
from coprod_study.catalog.translations import episode_title
from coprod_study.courses import bp, checkpoint_reports
from coprod_study.courses import calendar as calendar_service
from coprod_study.courses import progress as progress_service
from coprod_study.courses import service as course_service
from coprod_study.courses.forms import (
    ActionForm,
    AddEducatorForm,
    AddLearnersForm,
    AssignmentForm,
    ChooseGroupForm,
    CourseForm,
    CourseGroupForm,
    CourseSettingsForm,
    EnrolForm,
    ExtensionForm,
    PlaceForm,
    PlacementForm,
)
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.forms import add_domain_error
from coprod_study.models import PLACEMENTS, Episode
from coprod_study.pagination import paginate


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


# --- Assignments and extensions ---------------------------------------------------------


def _assignment_form(course, assignment=None):
    data = None
    if assignment is not None and request.method == "GET":
        data = {
            "episode_id": assignment.episode_id,
            "opens_at": course_service.to_local(assignment.opens_at, course.time_zone),
            "due_at": course_service.to_local(assignment.due_at, course.time_zone),
            "instructions": assignment.instructions,
            "required_questions": [
                f"{assignment.episode_id}:{n}" for n in assignment.required_questions or []
            ],
            "reveal_after_due": assignment.reveal_after_due,
        }
    elif request.method == "GET":
        # "Opens at" starts as now, in the zone the form's times are read in.
        data = {"opens_at": course_service.to_local(course_service.now_utc(), course.time_zone)}
    form = AssignmentForm(data=data)
    episodes = db.session.scalars(
        select(Episode).options(selectinload(Episode.questions)).order_by(Episode.number)
    ).all()
    form.episodes = episodes
    form.episode_id.choices = [("", _("Choose an episode"))] + [
        (e.id, f"{e.number}. {episode_title(e)}") for e in episodes
    ]
    form.opens_at.label.text = _("Opens at (%(zone)s time)", zone=course.time_zone)
    form.due_at.label.text = _("Due at (%(zone)s time)", zone=course.time_zone)
    return form


def _required_numbers(form) -> list[str]:
    """The ticked questions of the chosen episode ("3:2" -> "2"); bare numbers, as
    in "1, 3", are taken as the chosen episode's."""
    chosen = str(form.episode_id.data)
    numbers = []
    for value in form.required_questions.data or []:
        episode_id, separator, number = str(value).rpartition(":")
        if not separator:
            numbers.extend(part for part in re.split(r"[\s,;]+", number) if part)
        elif episode_id == chosen:
            numbers.append(number)
    return numbers


def _assignment_values(form) -> dict:
    return {
        "episode_id": form.episode_id.data,
        "opens_at": form.opens_at.data,
        "due_at": form.due_at.data,
        "instructions": form.instructions.data or "",
        "required": _required_numbers(form),
        "reveal_after_due": form.reveal_after_due.data,
        "past_due_confirmed": form.confirm_past_due.data,
    }


def _render_assignment_form(course, form, assignment):
    return (
        render_template(
            "courses/assignment_form.html",
            course=course,
            form=form,
            assignment=assignment,
            ask_past_due=getattr(form, "past_due", False),
            ticked=set(form.required_questions.data or []),
        ),
        _status_of(form),
    )


def _assignment_error(form, error: DomainError) -> None:
    _form_error(form, error)
    form.past_due = isinstance(error, course_service.PastDueDate)


@bp.route("/<code>/assignments/new", methods=["GET", "POST"])
@login_required
def new_assignment(code: str):
    course = load_course(code, manage=True)
    form = _assignment_form(course)
    if form.validate_on_submit():
        try:
            assignment = course_service.create_assignment(
                _user(), course, **_assignment_values(form)
            )
        except DomainError as error:
            _assignment_error(form, error)
        else:
            flash(_("Episode %(number)s is assigned.", number=assignment.episode.number), "success")
            return redirect(url_for("courses.show", code=course.code) + "#assignments")
    return _render_assignment_form(course, form, None)


def _load_assignment(course, assignment_id: int):
    try:
        return course_service.get_assignment(course, assignment_id)
    except DomainError:
        abort(404)


@bp.route("/<code>/assignments/<int:assignment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_assignment(code: str, assignment_id: int):
    course = load_course(code, manage=True)
    assignment = _load_assignment(course, assignment_id)
    form = _assignment_form(course, assignment)
    if form.validate_on_submit():
        try:
            course_service.update_assignment(_user(), assignment, **_assignment_values(form))
        except DomainError as error:
            _assignment_error(form, error)
        else:
            flash(_("The assignment is saved."), "success")
            return redirect(url_for("courses.show", code=course.code) + "#assignments")
    return _render_assignment_form(course, form, assignment)


@bp.route("/<code>/assignments/<int:assignment_id>/extensions", methods=["GET", "POST"])
@login_required
def extensions(code: str, assignment_id: int):
    course = load_course(code, manage=True)
    assignment = _load_assignment(course, assignment_id)
    form = ExtensionForm()
    learners = course_service.members(course, "learner")
    form.user_id.choices = [("", _("Choose a learner"))] + [
        (m.user_id, m.user.display_name) for m in learners
    ]
    form.due_at.label.text = _("New due date (%(zone)s time)", zone=course.time_zone)
    if form.validate_on_submit():
        try:
            extension = course_service.grant_extension(
                _user(), assignment, form.user_id.data, form.due_at.data
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(
                _(
                    "%(name)s has until %(due)s.",
                    name=extension.user.display_name,
                    due=zoned(extension.due_at),
                ),
                "success",
            )
            return redirect(request.path)
    return (
        render_template(
            "courses/extensions.html",
            course=course,
            assignment=assignment,
            extensions=course_service.extensions(assignment),
            form=form,
            action_form=ActionForm(),
        ),
        _status_of(form),
    )


@bp.route(
    "/<code>/assignments/<int:assignment_id>/extensions/<int:user_id>/delete", methods=["POST"]
)
@login_required
def remove_extension(code: str, assignment_id: int, user_id: int):
    course = load_course(code, manage=True)
    assignment = _load_assignment(course, assignment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        course_service.remove_extension(_user(), assignment, user_id)
    except DomainError:
        abort(404)
    flash(_("The extension is removed."), "success")
    return redirect(url_for("courses.extensions", code=course.code, assignment_id=assignment.id))


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
