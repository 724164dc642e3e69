"""Views for a course's assignments and their extensions."""

import re

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from coprod_study.catalog.translations import episode_title
from coprod_study.courses import bp
from coprod_study.courses import service as course_service
from coprod_study.courses.forms import (
    ActionForm,
    AssignmentForm,
    ExtensionForm,
)
from coprod_study.courses.views.common import _form_error, _status_of, _user, load_course, zoned
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.models import Episode

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
