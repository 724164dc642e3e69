"""/reflections: a learner's private reflection log, one entry per episode listened to."""

from flask import Blueprint

bp = Blueprint("reflections", __name__, url_prefix="/reflections")
