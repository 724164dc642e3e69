"""Views for /certificates (the learner's own) and /verify/<code> (anyone)."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from coprod_study.certificates import bp, pdf
from coprod_study.certificates import service as certificates
from coprod_study.certificates.forms import ActionForm, IssueForm
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.models import Course, Episode


@bp.route("/certificates")
@login_required
def index():
    progress = certificates.progress_of(current_user)
    return render_template(
        "certificates/index.html",
        certificates=certificates.my_certificates(current_user),
        episodes=certificates.eligible_episodes(current_user, progress),
        courses=certificates.eligible_courses(current_user, progress),
        issue_form=IssueForm(),
        action_form=ActionForm(),
        code_of=certificates.code_of,
    )


@bp.route("/certificates/new", methods=["POST"])
@login_required
def new():
    form = IssueForm()
    if not form.validate_on_submit():
        abort(400)
    episode = course = None
    if form.episode.data:
        episode = db.session.scalar(select(Episode).where(Episode.slug == form.episode.data))
    elif form.course.data:
        course = db.session.scalar(select(Course).where(Course.code == form.course.data.upper()))
    if episode is None and course is None:
        abort(404)
    try:
        certificate = certificates.issue(current_user, episode=episode, course=course)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("certificates.index"))
    flash(_("Your certificate is ready to download."), "success")
    return redirect(url_for("certificates.index") + f"#certificate-{certificate.id}")


@bp.route("/certificates/<int:certificate_id>.pdf")
@login_required
def download(certificate_id: int):
    try:
        certificate = certificates.own_certificate(current_user, certificate_id)
    except DomainError:
        abort(404)
    if certificate.revoked_at is not None:
        abort(404)
    return Response(
        pdf.render(certificate),
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="certificate-{certificate.id}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/certificates/<int:certificate_id>/revoke", methods=["POST"])
@login_required
def revoke(certificate_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        certificates.revoke(current_user, certificate_id)
    except DomainError:
        abort(404)
    flash(_("The certificate is revoked: its verification page now says so."), "success")
    return redirect(url_for("certificates.index"))


@bp.route("/verify/<code>")
def verify(code: str):
    status, certificate = certificates.verify(code)
    return (
        render_template("certificates/verify.html", status=status, certificate=certificate),
        404 if status == "unknown" else 200,
    )
