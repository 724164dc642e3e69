"""Views: the follow-up setting (account page) and the one-click unsubscribe link."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from coprod_study.extensions import csrf
from coprod_study.followups import bp
from coprod_study.followups import service as followups
from coprod_study.followups.forms import FollowUpSettingForm

PREFIX = "follow_ups"  # the account page has other forms: ids of its own


@bp.app_template_global()
def follow_up_form():
    """The setting's form for the account page, filled with the person's setting."""
    return FollowUpSettingForm(
        formdata=None, prefix=PREFIX, data={"wanted": followups.wants_follow_ups(current_user)}
    )


@bp.route("/account/follow-ups", methods=["POST"])
@login_required
def setting():
    form = FollowUpSettingForm(prefix=PREFIX)
    if not form.validate_on_submit():
        abort(400)
    followups.set_follow_ups(current_user, bool(form.wanted.data))
    flash(_("Follow-ups are on.") if form.wanted.data else _("Follow-ups are off."), "success")
    return redirect(url_for("account.profile") + "#follow-ups")


@bp.route("/follow-ups/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: the mail app POSTs with no session; the signed token is the key
def unsubscribe(token: str):
    user = followups.user_for_token(token)
    if user is None:
        return render_template("followups/unsubscribe.html", user=None), 400
    if request.method == "POST":
        followups.set_follow_ups(user, False)
        return render_template("followups/unsubscribe.html", user=user, done=True)
    return render_template("followups/unsubscribe.html", user=user, done=False)
