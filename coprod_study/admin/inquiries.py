"""Views for /admin/inquiries: read what people sent through /contact and reply."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from coprod_study.admin import bp
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.inquiries import service as inquiries
from coprod_study.models import INQUIRY_STATUSES
from coprod_study.pagination import paginate


class ReplyForm(FlaskForm):
    reply = TextAreaField(
        _l("Your reply"),
        description=_l("E-mailed to the sender, with their message quoted below it."),
        validators=[
            DataRequired(_l("Write the reply.")),
            Length(max=inquiries.MAX_REPLY, message=_l("Use at most %(max)d characters.")),
        ],
    )


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=list(INQUIRY_STATUSES.items()))


def _inquiry(inquiry_id: int):
    return inquiries.get(inquiry_id) or abort(404)


@bp.route("/inquiries")
def inquiry_list():
    status = request.args.get("status") or ""
    if status not in INQUIRY_STATUSES:
        status = ""
    page = paginate(inquiries.list_stmt(status or None), per_page=30)
    return render_template(
        "admin/inquiries/index.html", page=page, status=status, statuses=INQUIRY_STATUSES
    )


def _render(item, reply_form=None, status_form=None, code=200):
    return (
        render_template(
            "admin/inquiries/show.html",
            inquiry=item,
            reply_form=reply_form or ReplyForm(),
            status_form=status_form or StatusForm(status=item.status),
            statuses=INQUIRY_STATUSES,
        ),
        code,
    )


@bp.route("/inquiries/<int:inquiry_id>")
def inquiry(inquiry_id: int):
    return _render(_inquiry(inquiry_id))


@bp.route("/inquiries/<int:inquiry_id>/reply", methods=["POST"])
def reply_inquiry(inquiry_id: int):
    item = _inquiry(inquiry_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            inquiries.reply(current_user._get_current_object(), item, form.reply.data)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            flash(_("Your reply is e-mailed to %(email)s.", email=item.email), "success")
            return redirect(url_for("admin.inquiry", inquiry_id=item.id))
    return _render(item, reply_form=form, code=400)


@bp.route("/inquiries/<int:inquiry_id>/status", methods=["POST"])
def inquiry_status(inquiry_id: int):
    item = _inquiry(inquiry_id)
    form = StatusForm()
    if form.validate_on_submit():
        inquiries.set_status(current_user._get_current_object(), item, form.status.data)
        flash(
            _("The inquiry is now %(status)s.", status=str(INQUIRY_STATUSES[item.status]).lower()),
            "success",
        )
        return redirect(url_for("admin.inquiry", inquiry_id=item.id))
    return _render(item, status_form=form, code=400)
