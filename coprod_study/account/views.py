"""Views for /account."""

from flask import flash, redirect, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study.account import bp
from coprod_study.account import service as accounts
from coprod_study.account import tokens as api_tokens
from coprod_study.account.forms import ProfileForm
from coprod_study.courses import calendar as calendar_service
from coprod_study.errors import DomainError
from coprod_study.forms import add_domain_error


@bp.route("", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        sent_in = str(get_locale())
        try:
            accounts.update_profile(
                user,
                display_name=form.display_name.data,
                language=form.language.data,
                time_zone=form.time_zone.data.strip(),
                email_preference=form.email_preference.data,
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Said in the language of the form just sent; the next page is in the new one.
            with force_locale(sent_in):
                flash(_("Your settings are saved."), "success")
            return redirect(url_for("account.profile"))
    return (
        render_template(
            "account/profile.html",
            form=form,
            time_zones=accounts.time_zone_names(),
            calendar_tokens=calendar_service.active_tokens(user),
            api_tokens=api_tokens.active_tokens(user),
        ),
        400 if form.errors else 200,
    )
