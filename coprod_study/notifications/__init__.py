"""A person's notifications and e-mail unsubscribe links."""

from flask import Blueprint

bp = Blueprint("notifications", __name__)

from coprod_study.notifications import views  # noqa: E402,F401
