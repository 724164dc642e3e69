"""Views for /contact."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error
from coprod_study.inquiries import bp
from coprod_study.inquiries import service as inquiries
from coprod_study.inquiries.forms import ContactForm


@bp.route("/contact", methods=["GET", "POST"])
def contact():
    form = ContactForm()
    status = 200
    if request.method == "GET" and current_user.is_authenticated:
        form.name.data = current_user.display_name
        form.email.data = current_user.email
    if form.validate_on_submit():
        try:
            inquiries.submit(
                name=form.name.data,
                email=form.email.data,
                subject=form.subject.data,
                message=form.message.data,
                stamp=form.started.data,
                honeypot=form.website.data,
                remote_addr=request.remote_addr,
            )
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            flash(_("Thank you: your message is sent."), "success")
            return redirect(url_for("inquiries.sent"))
    elif form.errors:
        status = 400
    # A fresh stamp each time the form is shown: the time on the form counts from here.
    form.started.data = inquiries.form_stamp()
    return render_template("inquiries/contact.html", form=form), status


@bp.route("/contact/sent")
def sent():
    return render_template("inquiries/sent.html")
