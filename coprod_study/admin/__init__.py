"""Site administration: people and roles, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
