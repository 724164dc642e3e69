"""Views for an assignment's checkpoints and their extensions (the course's educators)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study.courses import bp
from coprod_study.courses import checkpoints as checkpoint_service
from coprod_study.courses import service as course_service
from coprod_study.courses.forms import ActionForm
from coprod_study.courses.learning_forms import CheckpointExtensionForm, CheckpointForm
from coprod_study.courses.views.assignments import _load_assignment
from coprod_study.courses.views.common import _form_error, _status_of, load_course
from coprod_study.errors import DomainError
from coprod_study.models import CHECKPOINT_KINDS


def _checkpoint_forms(course, assignment, checkpoint):
    data = None
    if checkpoint is not None and request.method == "GET":
        to_local = course_service.to_local
        data = {
            "answers_due": checkpoint.answers_due_at and to_local(checkpoint.answers_due_at, course.time_zone),
            "replies_required": checkpoint.replies_required or None,
            "replies_due": checkpoint.replies_due_at and to_local(checkpoint.replies_due_at, course.time_zone),
        }
    form = CheckpointForm(data=data, prefix="checkpoint")
    extension_form = CheckpointExtensionForm(prefix="extension")
    extension_form.user_id.choices = [("", _("Choose a learner"))] + [
        (m.user_id, m.user.display_name) for m in course_service.members(course, "learner")
    ]
    for name in ("answers_due", "replies_due"):
        getattr(form, name).label.text += f" ({course.time_zone})"
    extension_form.due_at.label.text += f" ({course.time_zone})"
    return form, extension_form


def _checkpoint_page(course, assignment, form, extension_form):
    return (
        render_template(
            "courses/checkpoints.html",
            course=course,
            assignment=assignment,
            checkpoint=checkpoint_service.checkpoints_for([assignment.id]).get(assignment.id),
            extensions=checkpoint_service.checkpoint_extensions(assignment),
            kinds=CHECKPOINT_KINDS,
            form=form,
            extension_form=extension_form,
            action_form=ActionForm(),
        ),
        max(_status_of(form), _status_of(extension_form)),
    )


def _managed(code: str, assignment_id: int):
    course = load_course(code, manage=True)
    return course, _load_assignment(course, assignment_id)


@bp.route("/<code>/assignments/<int:assignment_id>/checkpoints", methods=["GET", "POST"])
@login_required
def checkpoints(code: str, assignment_id: int):
    course, assignment = _managed(code, assignment_id)
    current = checkpoint_service.checkpoints_for([assignment.id]).get(assignment.id)
    form, extension_form = _checkpoint_forms(course, assignment, current)
    if form.validate_on_submit():
        try:
            checkpoint_service.save_checkpoints(
                assignment, answers_due=form.answers_due.data,
                replies_required=form.replies_required.data, replies_due=form.replies_due.data,
                actor=current_user,
            )
        except DomainError as error:
            _form_error(form, error)
        else:
            flash(_("The checkpoints are saved."), "success")
            return redirect(request.path)
    return _checkpoint_page(course, assignment, form, extension_form)


@bp.route("/<code>/assignments/<int:assignment_id>/checkpoints/extensions", methods=["POST"])
@login_required
def checkpoint_extension(code: str, assignment_id: int):
    course, assignment = _managed(code, assignment_id)
    current = checkpoint_service.checkpoints_for([assignment.id]).get(assignment.id)
    form, extension_form = _checkpoint_forms(course, assignment, current)
    if extension_form.validate_on_submit():
        learners = {m.user_id for m in course_service.members(course, "learner")}
        try:
            checkpoint_service.grant_extension(
                current_user, assignment, learners, extension_form.user_id.data,
                extension_form.kind.data, extension_form.due_at.data,
            )
        except DomainError as error:
            _form_error(extension_form, error)
        else:
            flash(_("The extension is given."), "success")
            return redirect(url_for("courses.checkpoints", code=course.code, assignment_id=assignment.id))
    elif not extension_form.errors:
        abort(400)
    return _checkpoint_page(course, assignment, form, extension_form)


@bp.route(
    "/<code>/assignments/<int:assignment_id>/checkpoints/extensions/<int:extension_id>/delete",
    methods=["POST"],
)
@login_required
def remove_checkpoint_extension(code: str, assignment_id: int, extension_id: int):
    course, assignment = _managed(code, assignment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        checkpoint_service.remove_extension(current_user, assignment, extension_id)
    except DomainError:
        abort(404)
    flash(_("The extension is removed."), "success")
    return redirect(url_for("courses.checkpoints", code=course.code, assignment_id=assignment.id))
