"""Views for /admin/outbox: mail queued, sent and failed (with the error), and retry now."""

import time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from coprod_study.admin import bp
from coprod_study.errors import DomainError
from coprod_study.extensions import db
from coprod_study.jobs import jobs_for
from coprod_study.mail import outbox
from coprod_study.models import OUTBOX_STATUSES, OutboxMessage
from coprod_study.pagination import paginate


class RetryForm(FlaskForm):
    """Only the CSRF token."""


@bp.route("/outbox")
def outbox_list():
    status = request.args.get("status") or ""
    if status not in OUTBOX_STATUSES:
        status = ""
    page = paginate(outbox.list_stmt(status or None), per_page=50)
    beat = jobs_for().last_heartbeat()
    return render_template(
        "admin/outbox.html",
        page=page,
        status=status,
        statuses=OUTBOX_STATUSES,
        counts=outbox.counts(),
        seconds_since_beat=None if beat is None else max(0, int(time.time() - beat)),
        retry_form=RetryForm(),
    )


@bp.route("/outbox/<int:outbox_id>/retry", methods=["POST"])
def retry_message(outbox_id: int):
    message = db.session.get(OutboxMessage, outbox_id) or abort(404)
    form = RetryForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        outbox.retry_now(message)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(_("The message to %(address)s is queued again.", address=message.to_address), "success")
    return redirect(url_for("admin.outbox_list", status=request.args.get("status") or None))
