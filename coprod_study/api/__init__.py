"""The JSON API under /api/v1, authenticated by personal access tokens."""

from flask import Blueprint

from coprod_study.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Requests authenticate with an Authorization header that a browser never
# adds on its own, and session cookies are ignored here, so there is no CSRF
# to guard against (see api.auth).
csrf.exempt(bp)
