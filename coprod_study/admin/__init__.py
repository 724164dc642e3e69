"""Site administration: people and roles, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from coprod_study.admin import episodes, feed, inquiries, lti, outbox, views  # noqa: E402,F401
