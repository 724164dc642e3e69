"""/certificates (a learner's certificates of participation) and /verify/<code> (public)."""

from flask import Blueprint

bp = Blueprint("certificates", __name__)
