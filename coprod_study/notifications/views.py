"""Views for /notifications and /email/unsubscribe/<token>."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import ngettext
from flask_login import current_user, login_required

from coprod_study.extensions import csrf, db
from coprod_study.groups.forms import ActionForm
from coprod_study.models import Notification
from coprod_study.notifications import bp, digests
from coprod_study.notifications import service as notifications
from coprod_study.pagination import paginate
from coprod_study.security import is_safe_next


@bp.route("/notifications")
@login_required
def index():
    page = paginate(notifications.list_stmt(current_user), per_page=30)
    return render_template(
        "notifications/index.html",
        page=page,
        action_form=ActionForm(),
        unread=notifications.unread_count(current_user),
    )


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def read_one(notification_id: int):
    if not ActionForm().validate_on_submit():
        abort(400)
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != current_user.id:
        abort(404)
    notifications.mark_read(current_user, notification_id)
    if request.form.get("open") and is_safe_next(item.url):
        return redirect(item.url)
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    if not ActionForm().validate_on_submit():
        abort(400)
    count = notifications.mark_read(current_user)
    flash(
        ngettext(
            "%(num)d notification marked as read.", "%(num)d notifications marked as read.", count
        ),
        "success",
    )
    return redirect(url_for("notifications.index"))


# The signed token is the proof here: mail clients send the RFC 8058 one-click
# POST without a session or CSRF token, so this one route is exempt from CSRF.
@bp.route("/email/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str):
    user = digests.user_for_unsubscribe_token(token)
    if user is None:
        return render_template("notifications/unsubscribe_invalid.html"), 400
    if request.method == "POST":
        digests.unsubscribe(user)
        return render_template("notifications/unsubscribed.html", user=user)
    return render_template("notifications/unsubscribe.html", user=user, token=token)
