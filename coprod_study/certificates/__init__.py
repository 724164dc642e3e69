"""/certificates (a learner's certificates of participation) and /verify/<code> (public)."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)

from coprod_study.certificates import views  # noqa: E402,F401
