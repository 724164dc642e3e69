"""Views for /admin/lti: LMS registrations, the tool's signing keys, and what an LMS admin pastes."""

import json

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coprod_study.admin import bp
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.forms import add_domain_error
from coprod_study.lti.forms import ActionForm, PlatformForm
from coprod_study.lti.service import registration
from coprod_study.models import LtiPlatform


@bp.route("/lti")
def lti_platforms():
    return render_template(
        "admin/lti/index.html", platforms=registration.platforms(),
        keys=registration.published_keys(), form=ActionForm(), urls=registration.tool_urls(),
        canvas=json.dumps(registration.canvas_configuration(), indent=2),
    )


def _platform_form(platform: LtiPlatform | None):
    form = PlatformForm(obj=platform)
    if platform is not None and not form.is_submitted():
        form.deployment_ids.data = "\n".join(d.deployment_id for d in platform.deployments)
        form.frame_origins.data = "\n".join(platform.frame_origins.split())
    if form.validate_on_submit():
        try:
            saved = registration.save_platform(current_user, platform, form.values())
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("%(name)s is saved.", name=saved.name), "success")
            return redirect(url_for("admin.lti_setup", platform_id=saved.id))
    return render_template("admin/lti/platform.html", form=form, platform=platform), (
        400 if form.is_submitted() else 200
    )


@bp.route("/lti/new", methods=["GET", "POST"])
def lti_new_platform():
    return _platform_form(None)


@bp.route("/lti/<int:platform_id>", methods=["GET", "POST"])
def lti_edit_platform(platform_id: int):
    return _platform_form(db.session.get(LtiPlatform, platform_id) or abort(404))


@bp.route("/lti/<int:platform_id>/setup")
def lti_setup(platform_id: int):
    platform = db.session.get(LtiPlatform, platform_id) or abort(404)
    registration.ensure_key()
    return render_template(
        "admin/lti/setup.html", platform=platform, urls=registration.tool_urls(),
        canvas=json.dumps(registration.canvas_configuration(), indent=2),
    )


@bp.route("/lti/<int:platform_id>/delete", methods=["POST"])
def lti_delete_platform(platform_id: int):
    platform = db.session.get(LtiPlatform, platform_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    name = platform.name
    registration.delete_platform(current_user, platform)
    flash(_("%(name)s is deleted; its launches are refused from now on.", name=name), "success")
    return redirect(url_for("admin.lti_platforms"))


@bp.route("/lti/keys/rotate", methods=["POST"])
def lti_rotate_key():
    if not ActionForm().validate_on_submit():
        abort(400)
    key = registration.rotate_key(current_user)
    flash(_("A new signing key (%(kid)s) is in use; the previous one stays published for a week.",
            kid=key.kid), "success")
    return redirect(url_for("admin.lti_platforms"))
